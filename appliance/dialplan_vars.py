"""Names shared by the dialplan generator and the FastAGI handlers.

One module so the two cannot drift: every channel variable our code sets or reads,
and every dialplan context we generate, is named here, all with the ``CC_``/``cc-``
prefix.
"""

# Channel variables set by FastAGI handlers and read by the dialplan.
AGI_FAILED = "CC_AGI_FAILED"
FALLBACK_REASON = "CC_FALLBACK_REASON"
DEST_CONTEXT = "CC_DEST_CONTEXT"
DEST_EXTEN = "CC_DEST_EXTEN"
DID = "CC_DID"
QUEUE = "CC_QUEUE"

# Contexts.
FALLBACK_CONTEXT = "cc-fallback"
# The fallback reason of a call to an analog phone whose FXS port the card no longer has.
PORT_MISSING_REASON = "port-missing"
TRUNK_CONTEXT = "cc-from-trunk"
PHONE_CONTEXT = "cc-from-phone"
QUEUE_CONTEXT = "cc-queue"

# Name of the user event our dialplan raises when a caller is sent to the fallback.
FALLBACK_EVENT = "CcFallback"
# Raised when Queue() returns without an agent (Queue: the queue, Status: ${QUEUESTATUS}:
# JOINEMPTY when every agent was paused or away, LEAVEEMPTY, TIMEOUT...), before the caller
# goes on to the queue's voicemail, the fallback or the next queue: the live state counts
# the call under that queue even when app_queue never let it join.
QUEUE_EXIT_EVENT = "CcQueueExit"

# A caller offered first to one agent (sticky agent, VIP's account manager), then a queue.
AGENT_FIRST_CONTEXT = "cc-agent-first"
THEN_QUEUE = "CC_THEN_QUEUE"  # the queue after the agent
FIRST_TIMEOUT = "CC_FIRST_TIMEOUT"  # seconds the agent is rung
# Every agent has a one-member queue of their own, so a call offered to them alone still
# goes through app_queue (busy, paused and wrap-up respected; the usual AMI events).
PERSONAL_QUEUE_PREFIX = "cc-agent-"

# Outgoing calls (click-to-dial): the agent's phone rings first, then the number is dialled
# through the trunks in order; the user event tells the live state whose call it is.
OUTBOUND_CONTEXT = "cc-outbound"
AGENT = "CC_AGENT"
OUTBOUND_EVENT = "CcOutbound"
# Trunk failover (confgen.extensions._dial_out): the calls a trunk with max_channels has up
# now (CHANNELS of its endpoint, counted with FIELDQTY on SPACE), and the event that says a
# full trunk was skipped.
TRUNK_CALLS = "CC_TRUNK_CALLS"
SPACE = "\\x20"  # a space as FIELDQTY's delimiter (it reads its arguments raw: one backslash)
TRUNK_FULL_EVENT = "CcTrunkFull"

# What a FastAGI handler that does something (not routing) reports: "ok" or an error id.
RESULT = "CC_RESULT"

# A number keyed on a desk phone that is none of our extensions or feature codes: FastAGI
# ``calling`` decides from the calling permission of the phone's agent (services/calling.py);
# CC_RESULT "ok" goes on to OUTBOUND_CONTEXT, anything else hears why and is hung up on.
CALLING_SCRIPT = "calling"
CALLER_ID = "CC_CALLERID"  # the caller ID an outbound call presents (a caller-ID pool's number); empty: the trunk's
REFUSED_RULE = "CC_REFUSED_RULE"  # the compliance rule that refused a desk phone's call (engine/compliance.py)
NUMBER_CLASS = "CC_NUMBER_CLASS"  # internal | local | mobile | domestic | international | premium | emergency

# Agents' feature codes, dialled from their own phone: code -> (FastAGI action, confirmation prompt).
FEATURE_CODES = {
    "*21": ("login", "agent-loginok"),
    "*22": ("logout", "agent-loggedoff"),
    "*23": ("pause", "beep"),
    "*24": ("unpause", "beep"),
}

# Recording a prompt from a phone (FastAGI ``prompt_record``): an admin's phone dials
# PROMPT_RECORD_CODE, keys the prompt's number (only # for a new one), records after the
# beep, hears it back and keeps it (1) or records again (2). The handler names the file
# Record() writes (PROMPT_TAKE, no extension), the converted take to play back
# (PROMPT_DRAFT) and what to say once it is kept (PROMPT_SAVED: "saved as number N").
PROMPT_RECORD_CODE = "*30"
PROMPT_RECORD_CONTEXT = "cc-prompt-record"
PROMPT_NUMBER = "CC_PR_NUMBER"
PROMPT_TAKE = "CC_PR_TAKE"
PROMPT_DRAFT = "CC_PR_DRAFT"
PROMPT_SAVED = "CC_PR_SAVED"
PROMPT_MAX_SECONDS = 120  # one take (uploads may be longer)
PROMPT_SILENCE_SECONDS = 5  # of silence end a take, as # does
PROMPT_TRIES = 3  # wrong numbers, or takes, before the call ends

# Long sign-in (app_agent_pool): the agent's phone stays connected for the whole shift in
# AgentLogin, reached from LONG_SIGNIN_CODE or called by the appliance on request; queues
# offer calls to Local/<number>@AGENT_POOL_CONTEXT, which AgentRequest bridges in with a
# beep.  Between calls the agent hears AGENT_SILENCE_MOH (silence, not music).
LONG_SIGNIN_CODE = "*25"
# Codes a phone dials to tell the appliance something (sign in, pause, record a prompt): not
# calls, so no call record and nothing on the wallboard (engine/live.py).  The long sign-in
# is a shift, taken off the calls when AgentLogin starts.
SERVICE_CODES = frozenset({*FEATURE_CODES, PROMPT_RECORD_CODE})
AGENT_LOGIN_CONTEXT = "cc-agent-login"
AGENT_POOL_CONTEXT = "cc-agent-pool"
AGENT_SILENCE_MOH = "cc-agent-silence"
AGENT_BEEP = "beep"

# Which routing rule placed the call, raised as a user event for the live state.
ROUTE_RULE = "CC_ROUTE_RULE"
ROUTE_EVENT = "CcRoute"

# A customer with an account manager: offered to the manager first, with a short choice
# ("press 0") to go to the queue instead.
VIP_CONTEXT = "cc-vip"
CHOICE = "CC_CHOICE"
VIP_RING_SECONDS = 20

# Member PIN check: the caller keys their PIN (at most PIN_TRIES times), FastAGI ``pin``
# checks it against their customer record, then the call goes where routing decided.
PIN_CONTEXT = "cc-pin"
AFTER_CONTEXT = "CC_AFTER_CONTEXT"
AFTER_EXTEN = "CC_AFTER_EXTEN"
PIN_TRIES = 3

# Voice menus (IVR), served a turn at a time by FastAGI ``menu`` (appliance/engine/menus.py):
# the caller enters MENU_CONTEXT,s with MENU naming the menu; each turn the handler says
# MENU_ACTION=read (the dialplan plays MENU_PROMPT and reads up to MENU_MAXDIGITS keys into
# MENU_INPUT, waiting MENU_TIMEOUT seconds) or go (on to DEST_CONTEXT/DEST_EXTEN).  Where
# the caller is travels in MENU, MENU_MODE, MENU_TRIES and MENU_HOPS.
MENU_CONTEXT = "cc-menu"
MENU = "CC_MENU"
MENU_EVENT = "CC_MENU_EVENT"  # enter | keys
MENU_MODE = "CC_MENU_MODE"
MENU_TRIES = "CC_MENU_TRIES"
MENU_HOPS = "CC_MENU_HOPS"
MENU_INPUT = "CC_MENU_INPUT"
MENU_ACTION = "CC_MENU_ACTION"  # read | go
MENU_PROMPT = "CC_MENU_PROMPT"
MENU_MAXDIGITS = "CC_MENU_MAXDIGITS"
MENU_TIMEOUT = "CC_MENU_TIMEOUT"
MENU_READ_OPTIONS = "CC_MENU_READOPTS"  # 't' (no terminator: # is a key) for one-key menus
# How calls leave the menus when no person takes them: a goodbye, or 'not available yet'.
MENU_END_CONTEXT = "cc-menu-end"
MENU_GOODBYE_EXTEN = "goodbye"
# Company directory: the agent whose work number was keyed, alone and only if free; if
# not, the caller is offered THEN_QUEUE ("press 1").
DIRECTORY_CONTEXT = "cc-directory"
DIRECTORY_RING_SECONDS = 20

# Post-call survey: after the agent hangs up the caller rates the call 1-5; the result is a
# user event the live state puts on the call record.
SURVEY_CONTEXT = "cc-survey"
SURVEY_EVENT = "CcSurvey"
SURVEY_SECONDS = 5
SURVEY_TRIES = 2

# The language of the call: picks the appliance's own sentences (appliance/sounds.py) in the
# dialplan and in FastAGI handlers. A trunk's calls start in the ``caller_language`` setting
# (the endpoint's ``language``); a voice menu sets its own.
LANGUAGE = "CHANNEL(language)"
# a global: the appliance's own sentences as Asterisk sees them, for the static fallback
# context (empty, so English core sounds, if the generated dialplan failed to load)
SOUNDS_GLOBAL = "CC_SOUNDS"
# a global: a random value written at each Asterisk start (appliance/pbx.py), which the AMI
# client reads back to know it talks to the Asterisk this appliance started
INSTANCE_GLOBAL = "CC_INSTANCE"

# Destination contexts a routing decision may name (the AGI server refuses others).
ROUTE_CONTEXTS = (QUEUE_CONTEXT, FALLBACK_CONTEXT, AGENT_FIRST_CONTEXT, VIP_CONTEXT, PIN_CONTEXT, MENU_CONTEXT)


def personal_queue(agent_number: str) -> str:
    return PERSONAL_QUEUE_PREFIX + agent_number

# Queue overflow: how many queues this call has already overflowed from, and the limit.
OVERFLOW_HOPS = "CC_OVERFLOW_HOPS"
MAX_OVERFLOW_HOPS = 3
OVERFLOW_EVENT = "CcOverflow"

# Call control by the engine (hold, consultation, attended transfer, three-way): the
# customer waits with music in HOLD_CONTEXT, the agent's leg waits in HELD_CONTEXT or calls
# someone from CONSULT_CONTEXT; all of them can meet in CONFERENCE_CONTEXT.  Each side
# knows the other by name (PEER) and hangs up once the other is gone, so nobody is left
# alone with music.  CONTROL_EVENT tells the live state where the call is.
HOLD_CONTEXT = "cc-hold"
HELD_CONTEXT = "cc-held"
CONSULT_CONTEXT = "cc-consult"
CONFERENCE_CONTEXT = "cc-conference"
PEER = "CC_PEER"
TRANSFER_DONE = "CC_TRANSFER_DONE"  # set on the agent's leg when the customer went on to the other party
CONSULT_PHONE = "CC_CONSULT_PHONE"  # the phone to consult (PJSIP/<extension> or DAHDI/<port>), or empty: the number
CONFERENCE_ROOM = "CC_CONFERENCE_ROOM"
CONTROL_EVENT = "CcCallControl"

# Recording: FastAGI ``route`` (an inbound call, on the caller's leg once routed) and ``record``
# (the agent's leg of an outgoing or internal call) ask the policy (appliance/recording/rules.py)
# and start MixMonitor themselves on the channel they run on. RECORD_CONNECT_CONTEXT is the Gosub app_queue
# runs on the agent's leg when they answer, where the agent's own setting is applied.
# RECORDING is what was done: record | standby | off | refused | error.
RECORD_CONNECT_CONTEXT = "cc-record-connect"
RECORDING = "CC_RECORDING"

# Voicemail (a caller leaves a message): after hours on a DID that says so, or when a queue's
# callers reach nobody. ``cc-voicemail,<queue>`` asks FastAGI ``voicemail`` for the file
# (VOICEMAIL_FILE, a WAV in the recording spool; empty when refused), plays the prompt and
# runs Record(); the recording pipeline makes the MP3 after the call. VOICEMAIL_REASON says
# why the caller is there: after-hours, queue-timeout, queue-joinempty...
VOICEMAIL_CONTEXT = "cc-voicemail"
VOICEMAIL_FILE = "CC_VM_FILE"
VOICEMAIL_REASON = "CC_VM_REASON"
VOICEMAIL_MAX_SECONDS = 120
VOICEMAIL_SILENCE_SECONDS = 5

# Fax: a DID set for fax sends every call to ``cc-fax``; FastAGI ``fax`` names the TIFF
# ReceiveFAX writes (FAX_FILE, in the fax spool; empty when it cannot be kept). The fax
# service makes the PDF once the call is over.
FAX_CONTEXT = "cc-fax"
FAX_FILE = "CC_FAX_FILE"
# Sending: AMI Originate of Local/<number>@FAX_DIAL_CONTEXT (the trunks, in order) with the
# answered side in FAX_SEND_CONTEXT,send running SendFAX(FAX_FILE).  FAX_JOB
# (``<id>-<attempt>``) is reported to FastAGI ``fax_out``: ``dialed`` when nobody answered
# (with DIALSTATUS), ``sent`` from the h extension when the call ends (FAXSTATUS & co.).
FAX_SEND_CONTEXT = "cc-fax-send"
FAX_DIAL_CONTEXT = "cc-fax-dial"
FAX_JOB = "CC_FAX_JOB"
# A caller handed to the fax receiver from elsewhere: a menu's fax key, or a fax machine's
# calling tone heard on a DID with fax_detect (res_fax jumps to the "fax" extension of the
# context the caller is in; each context a routed caller can be in has one leading here).
FAX_CALLER_EXTEN = "caller"
FAX_DETECT = "CC_FAX_DETECT"
FAX_DETECT_SECONDS = 10

# Voice verification codes (services/voicecodes.py): AMI Originate of
# Local/<number>@VOICECODE_DIAL_CONTEXT (the trunks, in order) with the answered side in
# VOICECODE_SAY_CONTEXT,s playing VOICECODE_FILE (the call's own audio: the code is in no
# variable).  VOICECODE_JOB (<id>-<nonce>, inherited by the dialling side) goes back to
# FastAGI VOICECODE_SCRIPT with every report.
VOICECODE_SCRIPT = "voicecode"
VOICECODE_DIAL_CONTEXT = "cc-voicecode-dial"
VOICECODE_SAY_CONTEXT = "cc-voicecode-say"
VOICECODE_JOB = "CC_VOICECODE"
VOICECODE_FILE = "CC_VOICECODE_FILE"

# Campaigns without agents and answering-machine detection (services/agentless.py).  The
# dialer originates each call with CAMPAIGN (the campaign's id) and ATTEMPT (the
# campaign_attempt's id) and sends it, answered, to AGENTLESS_CONTEXT,<mode>,1 (a mode
# without agents) or to its own agent context, which runs Gosub(AMD_CONTEXT,s,1) first.
# Both report to FastAGI CAMPAIGN_SCRIPT (``<action>,<campaign>,<attempt>,...``).
CAMPAIGN = "CC_CAMPAIGN"
ATTEMPT = "CC_ATTEMPT"
CAMPAIGN_SCRIPT = "campaign"
AGENTLESS_CONTEXT = "cc-campaign-agentless"
AMD_CONTEXT = "cc-campaign-amd"
AMD_ARGS = "CC_AMD_ARGS"  # AMD()'s arguments; empty: the campaign has AMD off
AMD_NEXT = "CC_AMD_NEXT"  # after AMD: go (a person, or not sure) | hangup | message | agent
CAMPAIGN_PLAY = "CC_CA_PLAY"  # what the callee hears next (&-separated files)
CAMPAIGN_QUEUE = "CC_CA_QUEUE"  # where a callee who asks for an agent goes
CAMPAIGN_KEYS = "CC_CA_KEYS"  # the key(s) just read
CAMPAIGN_NEXT = "CC_CA_NEXT"  # press-key, after a key: queue | again | bye
CAMPAIGN_TRY = "CC_CA_TRY"  # press-key: how many times the message has been played
CAMPAIGN_QUESTION = "CC_CA_Q"  # survey: the question just asked (1-based; 0 before the first)
CAMPAIGN_KEY_SECONDS = 6  # waiting for a key after the message or a question
# a machine's message starts once its greeting and beep are over: this much silence,
# waited for at most AMD_WAIT_SECONDS
AMD_SILENCE_MS = 1500
AMD_WAIT_SECONDS = 30
# Campaigns the appliance dials (services/dialer.py): AMI Originate of
# Local/<number>@CAMPAIGN_DIAL_CONTEXT/n (the trunks in order; /n keeps the Local pair, so
# the call keeps one linkedid and one customer leg once bridged to an agent), answered into
# CAMPAIGN_CONTEXT,<mode>.  CAMPAIGN (the campaign's id) and ATTEMPT (the attempt's
# id: the call is matched to its attempt by it) are inherited by both halves.  The dialling
# side reports DIALSTATUS from its h extension (FastAGI DIALER_SCRIPT ``dialed``); the
# answered side asks ``connect`` for a free agent (CAMPAIGN_AGENT, empty: none) and puts the
# callee through to that agent's personal queue, or plays the campaign-no-agent sentence
# (the call is abandoned).
DIALER_SCRIPT = "dialer"
CAMPAIGN_DIAL_CONTEXT = "cc-campaign-dial"
CAMPAIGN_CONTEXT = "cc-campaign"
CAMPAIGN_AGENT = "CC_CAMPAIGN_AGENT"
CAMPAIGN_CONNECT_SECONDS = 10  # an agent's phone rings this long before another agent is tried
CAMPAIGN_AGENT_MODES = ("progressive", "power", "predictive")  # answered calls go to an agent
