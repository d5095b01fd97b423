"""The appliance's tables, as peewee models.

The schema itself is made by the numbered migrations in ``appliance/db/migrations``;
these models must match the head of them (a test compares the two).  The database is
bound at run time (``database.initialize``): no module global holds a live connection.
"""

from __future__ import annotations

import datetime as dt

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    """A person who signs in to the web UI (admin, supervisor or agent)."""

    id = AutoField()
    username = CharField(unique=True, max_length=64)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16)  # admin | supervisor | agent
    language = CharField(max_length=8, default="zh_CN")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # the phone the wallboard rings to listen in, whisper or barge ('' until the supervisor names it)
    own_extension = CharField(max_length=16, default="")


class ApiToken(BaseModel):
    """A bearer token for /api/v1/; only its SHA-256 is stored."""

    id = AutoField()
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    name = CharField(max_length=64)
    token_hash = CharField(unique=True, max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)  # None: until revoked
    scopes = TextField(default="")  # space-separated (services/token_scopes.py); '': the owner's full role
    addresses = TextField(default="")  # space-separated networks (CIDR) it may be used from; '': any


class WebSession(BaseModel):
    """A signed-in browser.  The cookie holds a random id; only its SHA-256 is stored."""

    id = AutoField()
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = CharField(unique=True, max_length=64)
    csrf = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    user_agent = CharField(max_length=255, default="")
    address = CharField(max_length=64, default="")


class LoginThrottle(BaseModel):
    """Failed sign-ins per key (``user:<name>``, ``addr:<ip>``, ``console:<device>``) and
    the lock they earned (appliance/services/signin.py)."""

    key = CharField(primary_key=True, max_length=128)
    failures = IntegerField(default=0)  # in the window that began at first_failure_at
    first_failure_at = DateTimeField(default=utcnow)
    last_failure_at = DateTimeField(default=utcnow)
    locked_until = DateTimeField(null=True)
    lockouts = IntegerField(default=0)  # locks so far: each lasts longer than the last


class Trunk(BaseModel):
    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")  # what people read, any script
    host = CharField(max_length=255)
    port = IntegerField(default=5060)
    match = TextField(default="")  # comma-separated source addresses/networks
    username = CharField(max_length=64, default="")
    secret = CharField(max_length=128, default="")
    register = BooleanField(default=False)
    codecs = CharField(max_length=64, default="alaw,ulaw")
    max_channels = IntegerField(default=0)
    outbound_priority = IntegerField(default=1)  # outgoing calls try trunks in this order; 0 = never
    recording = CharField(max_length=8, default="dontcare")  # force | yes | dontcare | no | never (recording/rules.py)


class Queue(BaseModel):
    """A call queue: one skill group (sales, complaints, tech support...)."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")
    strategy = CharField(max_length=16, default="rrmemory")
    ring_timeout = IntegerField(default=15)
    retry = IntegerField(default=2)
    wrapup_seconds = IntegerField(default=0)
    max_wait_seconds = IntegerField(default=300)
    musicclass = CharField(max_length=32, default="default")
    announce_position = BooleanField(default=True)
    announce_frequency = IntegerField(default=60)
    announce_holdtime = BooleanField(default=True)
    periodic_announce_seconds = IntegerField(default=30)  # "all our agents are busy...", 0 = off
    overflow_queue = ForeignKeyField("self", null=True, backref="overflow_from", on_delete="SET NULL")
    autopause_after = IntegerField(default=3)  # missed calls in a row before the agent is paused; 0 = never
    sticky_lookback_days = IntegerField(default=0)  # offer callers their last agent first; 0 = off
    sticky_min_talk_seconds = IntegerField(default=30)  # ...if they talked at least this long
    sticky_ring_seconds = IntegerField(default=15)  # ...ringing that agent this long before the queue
    recording = CharField(max_length=8, default="dontcare")  # force | yes | dontcare | no | never
    service_level_seconds = IntegerField(default=20)  # answered within this counts as in time (wallboard)
    survey_enabled = BooleanField(default=False)  # after the agent hangs up, the caller rates the call 1-5
    survey_prompt = CharField(max_length=32, default="")  # a prompt's name; empty: the built-in one
    survey_low_score = IntegerField(default=2)  # a score at or below this raises a low-score event
    recording_keep_days = IntegerField(default=0)  # keep its calls' recordings so long; 0: the direction's rule
    voicemail = BooleanField(default=False)  # a caller nobody answers may leave a message
    voicemail_email = CharField(max_length=1000, default="")  # new messages e-mailed here (comma-separated)
    disposition_required = BooleanField(default=False)  # no next call before the last one's disposition


class TimeCondition(BaseModel):
    """Opening hours: a weekly schedule (``mon-fri 09:00-18:00; sat 09:00-12:00``) in a time zone."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")  # what people read, any script
    schedule = TextField()
    timezone = CharField(max_length=64, default="Asia/Shanghai")
    use_holidays = BooleanField(default=True)


class Holiday(BaseModel):
    """The holiday calendar: closed all day, or a make-up working day (调休)."""

    id = AutoField()
    date = CharField(unique=True, max_length=10)  # YYYY-MM-DD
    name = CharField(max_length=64)
    kind = CharField(max_length=8, default="holiday")  # holiday | workday


class BlockedNumber(BaseModel):
    """A caller refused on every inbound call (the inbound blacklist)."""

    id = AutoField()
    number = CharField(unique=True, max_length=32)
    note = CharField(max_length=128, default="")
    created_at = DateTimeField(default=utcnow)


class Prompt(BaseModel):
    """Something a caller hears: an uploaded recording (converted to 8 kHz mono WAV under
    the prompts folder) or one of Asterisk's own sounds (``source`` = sound, ``sound`` its name)."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")  # what people read, any script
    description = CharField(max_length=128, default="")
    language = CharField(max_length=8, default="en")
    source = CharField(max_length=8, default="upload")  # upload | sound | builtin
    sound = CharField(max_length=64, default="")  # a core sound (sound), or ours: sounds folder path (builtin)
    file = CharField(max_length=128, default="")  # relative to the prompts folder (source upload)
    duration_seconds = FloatField(default=0)
    peak_dbfs = FloatField(null=True)
    rms_dbfs = FloatField(null=True)
    created_at = DateTimeField(default=utcnow)


class Menu(BaseModel):
    """A voice menu (IVR): a greeting, options per key, what happens on no key or a wrong one."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")  # what people read, any script
    description = CharField(max_length=128, default="")
    language = CharField(max_length=8, default="zh_CN")  # zh_CN | en: the appliance's sentences around the menu
    prompt = ForeignKeyField(Prompt, null=True, backref="menus", on_delete="RESTRICT")
    timeout_seconds = IntegerField(default=5)  # waiting for a key after the greeting
    max_tries = IntegerField(default=3)  # wrong or missing keys before the invalid/timeout action
    invalid_action = CharField(max_length=16, default="hangup")
    invalid_target = CharField(max_length=32, default="")
    timeout_action = CharField(max_length=16, default="hangup")
    timeout_target = CharField(max_length=32, default="")
    skip = BooleanField(default=False)  # callers pass straight on to the timeout action
    live = BooleanField(default=False)  # checked (prompts present) and reachable by calls
    updated_at = DateTimeField(default=utcnow)


class MenuOption(BaseModel):
    """What one key does in a menu."""

    id = AutoField()
    menu = ForeignKeyField(Menu, backref="options", on_delete="CASCADE")
    digit = CharField(max_length=1)  # 0-9 * #
    action = CharField(max_length=16)  # menu | queue | agent | extension | directory | voicemail | fax | repeat | hangup
    target = CharField(max_length=32, default="")
    enabled = BooleanField(default=True)  # a disabled (skipped) option is as if the key had none

    class Meta:
        indexes = ((("menu", "digit"), True),)


class Did(BaseModel):
    """A dialled number arriving on a trunk, and where its calls go."""

    id = AutoField()
    number = CharField(unique=True, max_length=32)
    description = CharField(max_length=128, default="")
    trunk = ForeignKeyField(Trunk, null=True, backref="dids", on_delete="SET NULL")
    dest_type = CharField(max_length=16, default="queue")  # queue | menu
    dest_queue = ForeignKeyField(Queue, null=True, backref="dids", on_delete="SET NULL")
    dest_menu = ForeignKeyField(Menu, null=True, backref="dids", on_delete="SET NULL")
    time_condition = ForeignKeyField(TimeCondition, null=True, backref="dids", on_delete="SET NULL")
    after_hours_queue = ForeignKeyField(Queue, null=True, backref="after_hours_dids", on_delete="SET NULL")
    after_hours_menu = ForeignKeyField(Menu, null=True, backref="after_hours_dids", on_delete="SET NULL")
    require_pin = BooleanField(default=False)  # callers must key their member PIN
    after_hours_voicemail = BooleanField(default=False)  # closed: callers leave a message (else the closed message)
    fax = BooleanField(default=False)  # a fax line: every call is received as a fax (ReceiveFAX)
    fax_email = CharField(max_length=1000, default="")  # received faxes e-mailed here (comma-separated)
    fax_detect = BooleanField(default=False)  # a voice line that hands a calling fax machine to the fax receiver


class Phone(BaseModel):
    """An endpoint an agent talks on: a SIP phone (``kind`` sip), or an analog phone on an FXS
    port of the telephony card (``kind`` fxs, on DAHDI channel ``dahdi_channel``)."""

    id = AutoField()
    extension = CharField(unique=True, max_length=16)
    secret = CharField(max_length=128)
    callerid_name = CharField(max_length=64, default="")
    kind = CharField(max_length=8, default="sip")
    codecs = CharField(max_length=64, default="alaw,ulaw")
    nat = BooleanField(default=False)  # behind NAT (remote agent): trust the source address, not Contact
    dahdi_channel = IntegerField(null=True)  # kind fxs: the FXS port's DAHDI channel (one phone a port: config)
    # a desk phone that provisions itself (appliance/services/provisioning.py): its MAC (12
    # lower-case hex digits), model (provisioning/phones), the password it fetches its file
    # with, and its last fetch
    mac = CharField(max_length=12, null=True, unique=True)
    model = CharField(max_length=32, default="")
    prov_password = CharField(max_length=32, default="")
    prov_fetched_at = DateTimeField(null=True)
    prov_fetched_from = CharField(max_length=64, default="")
    prov_user_agent = CharField(max_length=128, default="")
    webrtc = BooleanField(default=False)  # a softphone in the agent's browser (the workspace registers it)


class CardRoute(BaseModel):
    """A way out through the telephony card, beside the SIP trunks in the outbound route:
    the FXO lines' group (``line`` fxo) or one PRI span's B-channels (``line`` pri, ``span``).
    Its capacity is what the card has (appliance/services/fxs.py), not a setting."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")
    line = CharField(max_length=8, default="fxo")  # fxo | pri
    span = IntegerField(default=0)  # line pri: the DAHDI span number
    outbound_priority = IntegerField(default=1)  # with the SIP trunks' outbound_priority; 0 = never


class Agent(BaseModel):
    """A person taking calls, with a work number and the phone they sit at."""

    id = AutoField()
    number = CharField(unique=True, max_length=16)  # work number (工号)
    name = CharField(max_length=64)
    phone = ForeignKeyField(Phone, null=True, backref="agents", on_delete="SET NULL")
    user = ForeignKeyField(User, null=True, backref="agents", on_delete="SET NULL")
    logged_in = BooleanField(default=False)
    login_mode = CharField(max_length=8, default="ring")  # ring: the phone rings per call | long: stays connected
    paused = BooleanField(default=False)
    pause_reason = CharField(max_length=32, default="")
    recording = CharField(max_length=8, default="dontcare")  # force | yes | dontcare | no | never
    call_permission = CharField(max_length=16, default="role")  # role | internal ... premium (engine/calling.py)


class PauseReason(BaseModel):
    """Why an agent is not taking calls (break, lunch, training...): the admin's list."""

    id = AutoField()
    code = CharField(unique=True, max_length=32)
    label = CharField(max_length=64)


class AgentStateLog(BaseModel):
    """One row per agent state, closed when the next begins: the source of agent reports."""

    id = AutoField()
    agent = CharField(max_length=16)  # work number (kept when the agent is deleted)
    state = CharField(max_length=16)
    reason = CharField(max_length=32, default="")
    started_at = DateTimeField()
    ended_at = DateTimeField(null=True)
    seconds = FloatField(null=True)

    class Meta:
        indexes = ((("agent", "started_at"), False),)


class Customer(BaseModel):
    """A customer: what routing and the screen pop need (phone, category, account manager,
    member PIN) and the CRM's own (values of the admin's custom fields, tags, notes...).

    The account manager is also the customer's owner in the CRM: an agent sees the
    customers they manage; team leaders assign, reclaim (to nobody) and transfer them."""

    id = AutoField()
    name = CharField(max_length=128, index=True)  # searched by prefix
    phone = CharField(unique=True, max_length=32)  # digits, maybe a leading +, as callers' numbers arrive
    category = CharField(max_length=32, default="", index=True)
    account_manager = ForeignKeyField(Agent, null=True, backref="customers", on_delete="SET NULL")
    pin_hash = CharField(max_length=255, default="")  # member PIN, scrypt (never stored as typed)
    created_at = DateTimeField(default=utcnow)
    custom = TextField(default="{}")  # JSON: custom field name -> value (see CustomerField)
    created_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(null=True)
    email = CharField(max_length=254, default="")  # where e-mail to the customer goes ('' none)


class CustomerField(BaseModel):
    """A custom field on every customer, defined by the admin (a column in the Excel files)."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)  # key in Customer.custom and the Excel header
    label = CharField(max_length=64)
    type = CharField(max_length=8, default="text")  # text | number | date | choice
    required = BooleanField(default=False)
    choices = TextField(default="")  # for type choice: comma-separated
    position = IntegerField(default=0)  # order on the form


class CustomerTag(BaseModel):
    id = AutoField()
    customer = ForeignKeyField(Customer, backref="tag_rows", on_delete="CASCADE", index=False)
    tag = CharField(max_length=32, index=True)

    class Meta:
        indexes = ((("customer", "tag"), True),)


class CustomerNote(BaseModel):
    """A note in a customer's contact history (typed by an agent, maybe about a call)."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="notes", on_delete="CASCADE", index=False)
    author = CharField(max_length=64)
    body = TextField()
    linkedid = CharField(max_length=64, default="")  # the call it is about, if any
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "created_at"), False),)


class FollowUp(BaseModel):
    """Something to do about a customer by a date: follow up, or call back."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="follow_ups", on_delete="CASCADE")
    kind = CharField(max_length=16, default="follow_up")  # follow_up | call_back
    due_at = DateTimeField()  # wall-clock time as the user typed it (the call center's local time)
    note = CharField(max_length=500, default="")
    agent = ForeignKeyField(Agent, null=True, backref="follow_ups", on_delete="SET NULL", index=False)  # who
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    done_at = DateTimeField(null=True)
    done_by = CharField(max_length=64, default="")

    class Meta:
        indexes = ((("agent", "done_at", "due_at"), False),)


class QueueMember(BaseModel):
    id = AutoField()
    queue = ForeignKeyField(Queue, backref="members", on_delete="CASCADE")
    agent = ForeignKeyField(Agent, backref="memberships", on_delete="CASCADE")
    penalty = IntegerField(default=0)

    class Meta:
        indexes = ((("queue", "agent"), True),)


class CallRecord(BaseModel):
    """One call, written at hangup from the live state (keyed by Asterisk's linkedid)."""

    id = AutoField()
    linkedid = CharField(unique=True, max_length=64)
    direction = CharField(max_length=8, default="inbound")
    caller = CharField(max_length=64, default="")
    caller_name = CharField(max_length=128, default="")
    did = CharField(max_length=32, default="")
    trunk = CharField(max_length=32, default="")
    queue = CharField(max_length=32, default="")
    agent = CharField(max_length=16, default="")
    enter_time = DateTimeField(index=True)
    answer_time = DateTimeField(null=True)
    end_time = DateTimeField(null=True)
    wait_seconds = FloatField(default=0)
    talk_seconds = FloatField(default=0)
    disposition = CharField(max_length=24)
    fallback_reason = CharField(max_length=64, default="")
    hangup_cause = IntegerField(null=True)
    route_rule = CharField(max_length=16, default="")  # did | after-hours | sticky | blacklist | menu ...
    survey = CharField(max_length=16, default="")  # '' not asked | rated | no-answer
    survey_score = IntegerField(null=True)  # 1-5 when rated
    cost = IntegerField(null=True)  # fen, at hang-up (appliance/engine/rating.py); None: not rated
    rate_plan = CharField(max_length=64, default="")  # the plan it was rated under
    destination_class = CharField(max_length=16, default="")  # local | long_distance | mobile ... | inbound

    class Meta:
        indexes = ((("caller", "end_time"), False),)


class VoiceCode(BaseModel):
    """A call that says a verification code (services/voicecodes.py).  The code is never
    stored; ``call_token`` matches the dialplan's reports to the call."""

    id = AutoField()
    number = CharField(max_length=32)
    language = CharField(max_length=8)
    requested_by = CharField(max_length=64)  # the web account
    sender = CharField(max_length=64)  # token:<id> | user:<name>: what the per-sender limit counts
    call_token = CharField(max_length=32)
    audio = CharField(max_length=32)  # the call's audio file (a random name), removed when the call is over
    state = CharField(max_length=16, index=True)  # engine/voicecodes.py STATES
    detail = CharField(max_length=64, default="")  # unanswered: DIALSTATUS, or why it failed
    said = BooleanField(default=False)  # the code was said to the end, twice
    created_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("number", "created_at"), False), (("sender", "created_at"), False))


class AuditLog(BaseModel):
    """Who changed what, and when."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    username = CharField(max_length=64)
    action = CharField(max_length=16)  # create | update | delete
    object_type = CharField(max_length=32)
    object_id = CharField(max_length=64)
    detail = TextField(default="")


class Recording(BaseModel):
    """A call's recording, from MixMonitor's WAV to the verified MP3 (appliance/recording/).

    ``linkedid`` is the call record's key as well (its rows are replaced, not updated, so
    their id does not last). Paths are relative: ``wav_path`` to the spool, ``mp3_path`` to
    the store, so a restored backup still finds its files.
    """

    id = AutoField()
    linkedid = CharField(unique=True, max_length=64)
    state = CharField(max_length=16, index=True)  # see recording/policy.py STATES
    wav_path = CharField(max_length=255)
    mp3_path = CharField(max_length=255)
    error_code = CharField(max_length=64, default="")  # a stable id from appliance/recording/errors.py
    detail = TextField(default="")
    repaired = BooleanField(default=False)  # the WAV's header was wrong; the samples present were used
    attempts = IntegerField(default=0)
    bytes = IntegerField(null=True)
    duration_seconds = FloatField(null=True)
    sha256 = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True, index=True)
    wanted = BooleanField(default=True)  # recorded audibly at some point; a standby nobody started is thrown away
    partial = BooleanField(default=False)  # the call was cut off (Asterisk went away): only its first part is here
    policy = CharField(max_length=64, default="")  # which setting decided, e.g. "queue sales: force"
    archived_at = DateTimeField(null=True)  # copied to the archive and read back with the same SHA-256
    expired_at = DateTimeField(null=True)  # its retention ran out: the MP3 was deleted (state "expired")
    archive_error = CharField(max_length=255, default="")  # the last archive attempt's failure


class RecordingRule(BaseModel):
    """The recording setting of one call direction, and when its recordings start."""

    id = AutoField()
    direction = CharField(unique=True, max_length=8)  # inbound | outbound | internal
    recording = CharField(max_length=8, default="dontcare")  # force | yes | dontcare | no | never
    start_at = CharField(max_length=8, default="answer")  # answer | ringing
    keep_days = IntegerField(default=0)  # recordings of this direction are deleted after so many days; 0: kept


class CallDisposition(BaseModel):
    """What a call came to, as the agent picks it after the call (the admin's list,
    ``services/dispositions.py``).  ``label`` empty: the catalog's ``disposition.<code>``."""

    id = AutoField()
    code = CharField(unique=True, max_length=32)
    label = CharField(max_length=64, default="")
    position = IntegerField(default=0)
    active = BooleanField(default=True)  # used ones are switched off, never deleted


class CallOutcome(BaseModel):
    """The agent's disposition and note for one call (kept apart from the call record,
    which is rewritten at hangup)."""

    id = AutoField()
    linkedid = CharField(max_length=64)
    agent = CharField(max_length=16)
    disposition = CharField(max_length=32)
    note = TextField(default="")
    saved_by = CharField(max_length=64)
    saved_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("linkedid", "agent"), True),)


class Message(BaseModel):
    """A short message from one user of the web UI to another."""

    id = AutoField()
    sender = CharField(max_length=64)  # username
    recipient = CharField(max_length=64)  # username
    body = TextField()
    sent_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("recipient", "sent_at"), False),)


class VoiceMessage(BaseModel):
    """A caller's message (after hours, or nobody answered in the queue): its audio is the
    recording ``recording_key`` (``<linkedid>-msg``), made by the same pipeline as calls."""

    id = AutoField()
    linkedid = CharField(max_length=64)  # the call it was left on
    recording_key = CharField(unique=True, max_length=64)
    caller = CharField(max_length=64, default="")
    caller_name = CharField(max_length=128, default="")
    did = CharField(max_length=32, default="")
    queue = CharField(max_length=32, default="")  # whose team it is for
    agent = CharField(max_length=16, default="")  # for one agent (the caller's account manager), else ''
    reason = CharField(max_length=32, default="")  # after-hours | queue-timeout | queue-joinempty ...
    created_at = DateTimeField(default=utcnow)
    handled_by = CharField(max_length=64, default="")  # the user who dealt with it
    handled_at = DateTimeField(null=True)
    note = TextField(default="")

    class Meta:
        table_name = "voice_message"
        indexes = ((("queue", "created_at"), False),)


class Fax(BaseModel):
    """A fax received on a fax DID (appliance/services/fax.py), or one sent from an uploaded
    PDF (appliance/services/fax_out.py): its pages as one PDF."""

    id = AutoField()
    linkedid = CharField(unique=True, max_length=64)
    direction = CharField(max_length=8, default="inbound")
    did = CharField(max_length=32, default="")
    caller = CharField(max_length=64, default="")
    caller_name = CharField(max_length=128, default="")
    state = CharField(max_length=16)  # receiving | received | failed; sent: queued | sending | sent | failed
    pages = IntegerField(default=0)
    pdf_path = CharField(max_length=255, default="")  # relative to the fax store: YYYY/MM/DD/<linkedid>.pdf
    bytes = IntegerField(null=True)
    sha256 = CharField(max_length=64, default="")
    error_code = CharField(max_length=64, default="")  # fax.no_fax (a voice call?), fax.bad_file
    detail = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    completed_at = DateTimeField(null=True)
    # sent faxes (direction outbound; appliance/services/fax_out.py)
    destination = CharField(max_length=32, default="")
    attempts = IntegerField(default=0)
    max_attempts = IntegerField(default=0)
    next_try_at = DateTimeField(null=True)
    created_by = CharField(max_length=64, default="")
    source_name = CharField(max_length=128, default="")


class SiteSetting(BaseModel):
    """One setting of this call center made in the web UI (appliance/services/site.py)."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")

    @classmethod
    def put(cls, key: str, value: str, actor: str, now) -> None:
        """Insert or replace one setting (the caller holds the transaction)."""
        (cls.insert(key=key, value=value, updated_at=now, updated_by=actor)
         .on_conflict(conflict_target=[cls.key],
                      update={cls.value: value, cls.updated_at: now, cls.updated_by: actor}).execute())


class SipBlock(BaseModel):
    """A SIP source blocked after failed authentications (appliance/services/sipguard.py);
    active while ``ended_at`` is empty."""

    id = AutoField()
    address = CharField(max_length=64, index=True)
    blocked_at = DateTimeField(default=utcnow)
    until = DateTimeField()
    failures = IntegerField()
    accounts = CharField(max_length=400, default="")  # extensions tried, comma-separated
    kinds = CharField(max_length=100, default="")  # wrong_password, unknown_account, refused_address
    first_failure_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True, index=True)
    ended_by = CharField(max_length=64, default="")  # expired | trusted | the admin's user name


class RatePlan(BaseModel):
    """How calls are charged (appliance/services/billing.py): a billing unit, a minimum and a
    fee per call, monthly rents; money in integer fen."""

    id = AutoField()
    name = CharField(unique=True, max_length=64)  # any script
    first_seconds = IntegerField(default=60)  # the first unit
    next_seconds = IntegerField(default=60)  # every unit after it
    minimum_fen = IntegerField(default=0)  # a call answered costs at least this (before the fee)
    call_fee_fen = IntegerField(default=0)  # added to every call answered
    trunk_rent_fen = IntegerField(default=0)  # a month, per trunk on this plan
    agent_rent_fen = IntegerField(default=0)  # a month, per agent (the default plan's)
    is_default = BooleanField(default=False)  # the plan of a trunk given none
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")


class RatePlanRate(BaseModel):
    """A plan's price per minute for one destination class, in hundredths of a fen."""

    id = AutoField()
    plan = ForeignKeyField(RatePlan, backref="rates", on_delete="CASCADE", index=False)
    destination_class = CharField(max_length=16)
    per_minute = IntegerField()

    class Meta:
        table_name = "rate_plan_rate"
        indexes = ((("plan", "destination_class"), True),)


class TrunkRatePlan(BaseModel):
    """The plan a trunk's calls are rated by (by the trunk's name, as call records keep it)."""

    id = AutoField()
    trunk = CharField(unique=True, max_length=32)
    plan = ForeignKeyField(RatePlan, backref="trunks", on_delete="CASCADE")

    class Meta:
        table_name = "trunk_rate_plan"


class DidRatePlan(BaseModel):
    """The plan that rates the incoming calls on a DID (a 400 number whose carrier charges the
    called party), in place of its trunk's: by the DID's number, as call records keep it."""

    id = AutoField()
    did = CharField(unique=True, max_length=32)
    plan = ForeignKeyField(RatePlan, backref="dids", on_delete="CASCADE")

    class Meta:
        table_name = "did_rate_plan"


# -- orders and sales (appliance/services/orders.py) ------------------------------------------


class Supplier(BaseModel):
    """Who supplies products (a product names its supplier)."""

    id = AutoField()
    name = CharField(max_length=128, unique=True)
    contact = CharField(max_length=64, default="")
    phone = CharField(max_length=32, default="")
    note = CharField(max_length=500, default="")
    created_at = DateTimeField(default=utcnow)


class Product(BaseModel):
    """A product of the catalogue; a gift is a product sold at no price, with its own stock.
    Money is whole fen (1/100 yuan), never a float."""

    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=128)
    category = CharField(max_length=32, default="", index=True)
    price_fen = IntegerField(default=0)
    unit = CharField(max_length=16, default="")
    stock = IntegerField(default=0)
    active = BooleanField(default=True)
    gift = BooleanField(default=False)
    supplier = ForeignKeyField(Supplier, null=True, backref="products", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(null=True)


class CustomerAddress(BaseModel):
    """A delivery address a customer's order used (offered again on the next order)."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")
    address = CharField(max_length=255)
    created_at = DateTimeField(default=utcnow)


class SalesOrder(BaseModel):
    """An order a customer placed, usually during a call (``linkedid``: the call record and
    its recording).  The customer's name and phone are copied: the order outlives them.
    ``version`` grows with every change (the API's ETag)."""

    id = AutoField()
    customer = ForeignKeyField(Customer, null=True, backref="orders", on_delete="SET NULL")
    customer_name = CharField(max_length=128, default="")
    customer_phone = CharField(max_length=32, default="")
    agent = CharField(max_length=16, default="", index=True)  # the work number that took it
    created_by = CharField(max_length=64, default="")
    linkedid = CharField(max_length=64, default="", index=True)
    state = CharField(max_length=16, default="draft", index=True)
    address = CharField(max_length=255, default="")
    payment_method = CharField(max_length=16, default="cod")
    note = CharField(max_length=500, default="")
    subtotal_fen = IntegerField(default=0)
    points_used = IntegerField(default=0)
    points_fen = IntegerField(default=0)  # what the points took off
    total_fen = IntegerField(default=0)
    paid_fen = IntegerField(default=0)
    points_earned = IntegerField(default=0)
    points_taken = BooleanField(default=False)  # the points used are off the customer's balance
    stock_taken = BooleanField(default=False)  # the items are off the stock (shipped)
    courier = CharField(max_length=32, default="")
    tracking = CharField(max_length=64, default="", index=True)
    reason = CharField(max_length=500, default="")
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)


class OrderItem(BaseModel):
    """One line of an order: the product as it was (code, name, list price) and what was charged."""

    id = AutoField()
    order = ForeignKeyField(SalesOrder, backref="items", on_delete="CASCADE")
    product = ForeignKeyField(Product, null=True, backref="order_items", on_delete="SET NULL")
    code = CharField(max_length=32)
    name = CharField(max_length=128)
    quantity = IntegerField()
    list_price_fen = IntegerField()
    price_fen = IntegerField()
    gift = BooleanField(default=False)


class OrderEvent(BaseModel):
    """An order's history: every change of state (or of its lines), who and when."""

    id = AutoField()
    order = ForeignKeyField(SalesOrder, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    username = CharField(max_length=64)
    action = CharField(max_length=16)
    from_state = CharField(max_length=16, default="")
    to_state = CharField(max_length=16, default="")
    detail = TextField(default="")


class Payment(BaseModel):
    """Money received against an order."""

    id = AutoField()
    order = ForeignKeyField(SalesOrder, backref="payments", on_delete="CASCADE")
    amount_fen = IntegerField()
    method = CharField(max_length=16)
    paid_on = CharField(max_length=10)  # YYYY-MM-DD
    reference = CharField(max_length=64, default="")
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)


class ReportPlaceDay(BaseModel):
    """Report summaries by the caller's place: one office day (``day``, its local midnight in
    Unix seconds) of one direction, queue, DID and seven-digit place key (``caller``: one
    number of it, to place it); ``appliance/services/reports.py``."""

    id = AutoField()
    day = IntegerField()
    direction = CharField(max_length=8)
    queue = CharField(max_length=32)
    did = CharField(max_length=32)
    place = CharField(max_length=32)
    caller = CharField(max_length=64)
    calls = IntegerField()
    answered = IntegerField()
    abandoned = IntegerField()
    talk_seconds = FloatField()

    class Meta:
        table_name = "report_place_day"
        indexes = ((("day", "direction", "queue", "did", "place"), True),)


class ReportTrunkDay(BaseModel):
    """Report summaries by trunk and charge: one office day of one direction, queue, DID,
    agent, trunk and destination class, with the calls rated, not rated and their cost."""

    id = AutoField()
    day = IntegerField()
    direction = CharField(max_length=8)
    queue = CharField(max_length=32)
    did = CharField(max_length=32)
    agent = CharField(max_length=16)
    trunk = CharField(max_length=32)
    destination_class = CharField(max_length=16)
    calls = IntegerField()
    answered = IntegerField()
    abandoned = IntegerField()
    talk_seconds = FloatField()
    rated = IntegerField()
    unrated = IntegerField()
    cost_fen = IntegerField()

    class Meta:
        table_name = "report_trunk_day"
        indexes = ((("day", "direction", "queue", "did", "agent", "trunk", "destination_class"), True),)


class ReportBucket(BaseModel):
    """Report summaries: one UTC quarter hour (``bucket``, its start in Unix seconds) of one
    queue, DID, agent and direction (``appliance/services/reports.py`` says what each sum is)."""

    id = AutoField()
    bucket = IntegerField()
    queue = CharField(max_length=32)
    did = CharField(max_length=32)
    agent = CharField(max_length=16)
    direction = CharField(max_length=8)
    calls = IntegerField()
    offered = IntegerField()
    answered = IntegerField()
    answered_in_time = IntegerField()
    abandoned = IntegerField()
    no_agent = IntegerField()
    handled = IntegerField()
    wait_seconds = FloatField()
    wait_answered = FloatField()
    talk_seconds = FloatField()
    wrapup_seconds = FloatField()

    class Meta:
        indexes = ((("bucket", "queue", "did", "agent", "direction"), True),)


class ReportSchedule(BaseModel):
    """A report e-mailed after each day, week or month (``appliance/services/report_schedule.py``)."""

    id = AutoField()
    report = CharField(max_length=16)  # traffic | heatmap | agents | abandoned | surveys
    period = CharField(max_length=8)  # daily | weekly | monthly
    recipients = CharField(max_length=1000)  # comma-separated addresses
    queue = CharField(max_length=32, default="")  # the report's queue filter; empty: every queue
    language = CharField(max_length=8, default="zh_CN")
    last_period = CharField(max_length=16, default="")  # the last period sent: 2026-12-05, 2026-11-30 (week), 2026-11
    last_error = CharField(max_length=255, default="")
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)


class PointsBalance(BaseModel):
    """A customer's member points now (changed only with a ``PointsEntry`` beside it)."""

    customer = ForeignKeyField(Customer, primary_key=True, on_delete="CASCADE")
    balance = IntegerField(default=0)


class PointsEntry(BaseModel):
    """The points ledger: every change of a customer's points, with the balance after it."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="points_entries", on_delete="CASCADE")
    order = ForeignKeyField(SalesOrder, null=True, on_delete="SET NULL")
    delta = IntegerField()
    balance = IntegerField()
    reason = CharField(max_length=16)  # earned | redeemed | refunded | reversed | adjusted
    username = CharField(max_length=64, default="")
    at = DateTimeField(default=utcnow)


class DncNumber(BaseModel):
    """A number never to be called (the do-not-call list, appliance/services/compliance.py):
    ``number`` as ``appliance.numbers.normalise`` gives it, ``number_key`` its ``key`` (what a
    dialled number is looked up by); no longer counts after ``expires_at``."""

    id = AutoField()
    number = CharField(max_length=32)
    number_key = CharField(unique=True, max_length=32)
    reason = CharField(max_length=128, default="")
    added_by = CharField(max_length=64, default="")
    source = CharField(max_length=8, default="manual")  # manual | pop | import
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)


class CallerIdNumber(BaseModel):
    """One number of a caller-ID pool, with its caps (0: none)."""

    id = AutoField()
    pool = CharField(max_length=32)
    number = CharField(max_length=32)
    per_hour = IntegerField(default=0)
    per_day = IntegerField(default=0)
    active = BooleanField(default=True)

    class Meta:
        indexes = ((("pool", "number"), True),)


class CallerIdUse(BaseModel):
    """One call presented with a pool's number (what the caps count; kept two days)."""

    id = AutoField()
    number = CharField(max_length=32)
    at = DateTimeField(default=utcnow, index=True)


class CallRefusal(BaseModel):
    """An outbound call compliance refused, with the rule that refused it."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    path = CharField(max_length=16)  # dial | transfer | consult | fax | phone | campaign
    rule = CharField(max_length=16)  # appliance.engine.compliance.RULES
    number = CharField(max_length=32)
    agent = CharField(max_length=32, default="")
    actor = CharField(max_length=64, default="")
    campaign = CharField(max_length=32, default="")
    detail = TextField(default="")


class WorkOrderType(BaseModel):
    """A kind of work order the admin defines (appliance/services/workorders.py): its own
    fields (as the customers' custom fields), its workflow (states with a time limit each,
    transitions), its priorities and the addresses told when an order escalates."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    label = CharField(max_length=64)
    fields = TextField(default="[]")  # JSON: [{name, label, type, required, choices}]
    states = TextField(default="[]")  # JSON: [{name, label, initial, final, limit_minutes}]
    transitions = TextField(default="[]")  # JSON: [[from, to], ...]
    priorities = CharField(max_length=200, default="low,normal,high,urgent")  # comma-separated, lowest first
    leader_email = CharField(max_length=1000, default="")  # escalation level 1 (comma-separated)
    manager_email = CharField(max_length=1000, default="")  # escalation level 2
    from_survey = BooleanField(default=False)  # a low survey score opens an order of this type
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "work_order_type"


class WorkOrder(BaseModel):
    """A work order (工单): a type's state machine instance, assigned to an agent, a team
    (queue) or a field engineer, escalating past its state's time limit."""

    id = AutoField()
    type = ForeignKeyField(WorkOrderType, backref="orders")
    title = CharField(max_length=200)
    state = CharField(max_length=32)
    priority = CharField(max_length=32)
    customer = ForeignKeyField(Customer, null=True, backref="work_orders", on_delete="SET NULL")
    linkedid = CharField(max_length=64, default="", index=True)  # the call (and so its recording)
    voice_message = ForeignKeyField(VoiceMessage, null=True, on_delete="SET NULL")
    source = CharField(max_length=16, default="manual")  # manual | customer | call | voicemail | survey
    custom = TextField(default="{}")  # JSON: the type's field name -> value
    assignee_kind = CharField(max_length=16, default="")  # '' | agent | queue | engineer
    assignee = CharField(max_length=64, default="")  # a work number, a queue name, an engineer's name
    engineer_contact = CharField(max_length=128, default="")  # the field engineer's phone or e-mail
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    state_since = DateTimeField(default=utcnow)  # when it entered its state
    due_at = DateTimeField(null=True)  # state_since + the state's limit; None: no limit (or closed)
    escalation_level = IntegerField(default=0)  # 0 none, 1 team leader told, 2 manager told
    escalated_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)  # set on entering a final state

    class Meta:
        table_name = "work_order"
        indexes = ((("closed_at", "due_at"), False), (("assignee_kind", "assignee"), False))


class WorkOrderEvent(BaseModel):
    """One line of an order's history: created, moved (from -> to), assigned, escalated."""

    id = AutoField()
    order = ForeignKeyField(WorkOrder, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=64)
    kind = CharField(max_length=16)  # create | move | assign | escalate | note
    from_state = CharField(max_length=32, default="")
    to_state = CharField(max_length=32, default="")
    note = TextField(default="")
    photos = TextField(default="[]")  # JSON: file names under the order's photo folder

    class Meta:
        table_name = "work_order_event"


class CallList(BaseModel):
    """A list of numbers to call (imported from Excel), owned by a team (a queue's members)
    and/or named agents; ``services/calllists.py``."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)  # the key: ASCII, as URLs and exports name it
    display_name = CharField(max_length=64, default="")  # any script; empty: the name
    owner_queue = CharField(max_length=32, default="")  # the team whose members call it
    owner_agents = TextField(default="[]")  # JSON: work numbers
    state = CharField(max_length=8, default="active")  # active | paused | done
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(max_length=64, default="")


class CallListEntry(BaseModel):
    """One number of a call list, with what has come of calling it."""

    id = AutoField()
    call_list = ForeignKeyField(CallList, backref="entries", on_delete="CASCADE")
    number = CharField(max_length=32)  # normalised (appliance.numbers.normalise)
    number_key = CharField(max_length=32)  # numbers.key: one number once per list
    name = CharField(max_length=128, default="")
    customer = ForeignKeyField(Customer, null=True, backref="call_list_entries", on_delete="SET NULL")
    data = TextField(default="{}")  # JSON: the row's other columns, by the file's own titles
    agent = CharField(max_length=16, default="")  # assigned agent; '' anyone of the campaign's
    attempts = IntegerField(default=0)
    last_result = CharField(max_length=16, default="")  # answered | no-answer | busy | failed | skipped | refused
    next_attempt_at = DateTimeField(null=True)  # a call-back's time (UTC); None: now
    state = CharField(max_length=8, default="pending")  # pending | offered | dialling | done
    taken_by = CharField(max_length=16, default="")  # the agent it is offered to / dialled by
    taken_at = DateTimeField(null=True)
    campaign = IntegerField(null=True)  # the campaign it was offered in

    class Meta:
        indexes = ((("call_list", "number_key"), True), (("state", "next_attempt_at"), False),
                   (("taken_by", "state"), False))


class Campaign(BaseModel):
    """Calling call lists: the mode, who calls, the script the agents read."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)
    display_name = CharField(max_length=64, default="")
    mode = CharField(max_length=16, default="preview")  # preview | progressive | power | predictive
    queue = CharField(max_length=32, default="")  # its agents: this queue's members...
    agents = TextField(default="[]")  # ...and these work numbers (JSON)
    script = TextField(default="")
    auto_next = BooleanField(default=True)
    start_at = DateTimeField(null=True)  # UTC; None: at once when started
    stop_at = DateTimeField(null=True)  # UTC; None: until stopped
    state = CharField(max_length=8, default="stopped")  # stopped | running | paused
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")
    # campaigns without agents and answering-machine detection (services/agentless.py)
    language = CharField(max_length=8, default="zh_CN")  # the values said: zh_CN | en
    prompt = CharField(max_length=32, default="")  # a prompt's name: the message
    spoken = TextField(default="[]")  # JSON [{"column": title, "as": digits|number|date|amount}]
    press_key = CharField(max_length=1, default="1")  # press-key: into the queue
    questions = TextField(default="[]")  # JSON: the survey's prompt names, in order
    amd = BooleanField(default=False)
    amd_action = CharField(max_length=8, default="hangup")  # on a machine: hangup | message | agent
    # the dialled modes (services/dialer.py, engine/pacing.py)
    ratio = FloatField(default=2.0)  # power: lines per free agent
    target_abandon = FloatField(default=3.0)  # predictive: percent of answered calls abandoned
    max_lines_per_agent = FloatField(default=3.0)  # hard cap, every dialled mode
    max_lines = IntegerField(default=0)  # the campaign's own concurrency limit; 0: none
    callerid_pool = CharField(max_length=32, default="")  # the caller-ID pool its calls present
    retry_busy_minutes = IntegerField(default=10)  # retry rules (engine.compliance.RetryRules)
    retry_no_answer_minutes = IntegerField(default=60)
    retry_failed_minutes = IntegerField(default=30)
    retry_machine_minutes = IntegerField(default=0)  # an answering machine: not again by default
    max_attempts = IntegerField(default=3)


class CampaignList(BaseModel):
    """A call list a campaign dials (in this order)."""

    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="lists", on_delete="CASCADE")
    call_list = ForeignKeyField(CallList, backref="campaigns", on_delete="CASCADE")
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("campaign", "call_list"), True),)


class CampaignAttempt(BaseModel):
    """One try at one entry: dialled (then linked to its call record by ``linkedid``),
    skipped, or refused by the calling checks."""

    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref="attempts", on_delete="CASCADE")
    entry = ForeignKeyField(CallListEntry, backref="attempts_made", on_delete="CASCADE")
    agent = CharField(max_length=16)
    number = CharField(max_length=32)
    linkedid = CharField(max_length=64, default="", index=True)
    started_at = DateTimeField(default=utcnow, index=True)  # the outbound report's range
    ended_at = DateTimeField(null=True)
    # dialling | answered | no-answer | busy | failed | abandoned | skipped | refused
    result = CharField(max_length=16, default="dialling")
    disposition = CharField(max_length=32, default="")
    note = TextField(default="")  # a skip's reason, a refusal's rule
    callback_at = DateTimeField(null=True)
    amd = CharField(max_length=8, default="")  # machine | human | notsure (AMD on)
    amd_cause = CharField(max_length=32, default="")  # Asterisk's AMDCAUSE
    heard = BooleanField(default=False)  # the message played to the end
    keys = CharField(max_length=16, default="")  # press-key: the key pressed
    answers = TextField(default="[]")  # survey: JSON, the key of each question ('' none)
    answered_at = DateTimeField(null=True)  # the callee picked up (dialled modes)

    class Meta:
        indexes = ((("campaign", "result"), False),)


class CallScript(BaseModel):
    """A call script (话术, appliance/services/scripts.py): steps the agent reads in their
    language, questions whose answers fill the caller's customer fields, next steps by answer."""

    id = AutoField()
    name = CharField(unique=True, max_length=32)  # the key: ASCII
    label = CharField(max_length=64)  # what people read, any script
    steps = TextField(default="[]")  # JSON: [{id, text: {zh_CN, en}, field, next, branches: [{answer, next}]}]
    active = BooleanField(default=True)
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")

    class Meta:
        table_name = "call_script"


class CallScriptUse(BaseModel):
    """Where a script is read: one queue's calls, or one campaign's (one script each)."""

    id = AutoField()
    script = ForeignKeyField(CallScript, backref="uses", on_delete="CASCADE")
    queue = ForeignKeyField(Queue, null=True, unique=True, backref="call_scripts", on_delete="CASCADE")
    campaign = ForeignKeyField(Campaign, null=True, unique=True, backref="call_scripts", on_delete="CASCADE")

    class Meta:
        table_name = "call_script_use"


class CallScriptRun(BaseModel):
    """One agent's way through a script on one call: the steps as they were when it began,
    the step they are at, and the path taken (what was read, asked and answered)."""

    id = AutoField()
    linkedid = CharField(max_length=64)
    agent = CharField(max_length=16)
    script = ForeignKeyField(CallScript, null=True, backref="runs", on_delete="SET NULL")
    script_label = CharField(max_length=64, default="")
    source = CharField(max_length=80, default="")  # queue:<name> | campaign:<name>
    steps = TextField(default="[]")  # JSON: the script's steps when the run began
    customer = ForeignKeyField(Customer, null=True, backref="script_runs", on_delete="SET NULL")
    current = CharField(max_length=32, default="")  # the step to read next; '' the script is over
    path = TextField(default="[]")  # JSON: [{step, text, field, answer, saved, at, by}]
    started_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "call_script_run"
        indexes = ((("linkedid", "agent"), True),)


class KbCategory(BaseModel):
    """A knowledge base category: top level (``parent`` None) or under one (two levels at most)."""

    id = AutoField()
    name = CharField(max_length=64)
    parent = ForeignKeyField("self", null=True, backref="children")
    position = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_category"


class KbArticle(BaseModel):
    """A knowledge base article (appliance/services/kb.py); the full-text index ``kb_fts``
    follows it by the migration's triggers."""

    id = AutoField()
    title = CharField(max_length=200)
    body = TextField(default="")
    plain = TextField(default="")  # the body without Markdown's marks: what is indexed and quoted in snippets
    format = CharField(max_length=8, default="markdown")  # text | markdown
    category = ForeignKeyField(KbCategory, null=True, backref="articles", on_delete="SET NULL")
    tags = CharField(max_length=500, default="")  # comma-separated, as typed (deduplicated)
    published = BooleanField(default=True)  # False: a draft only editors read
    version = IntegerField(default=1)
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_article"


class KbArticleQueue(BaseModel):
    """A queue an article is suggested for (the workspace's knowledge panel during its calls)."""

    id = AutoField()
    article = ForeignKeyField(KbArticle, backref="queue_rows", on_delete="CASCADE")
    queue = CharField(max_length=32, index=True)

    class Meta:
        table_name = "kb_article_queue"
        indexes = ((("article", "queue"), True),)


class KbAttachment(BaseModel):
    """A file attached to an article, kept as ``<data>/kb/<article>/<stored>``."""

    id = AutoField()
    article = ForeignKeyField(KbArticle, backref="attachments", on_delete="CASCADE")
    filename = CharField(max_length=200)  # as uploaded (made safe), for the download
    stored = CharField(max_length=64)  # the random name on disk
    size = IntegerField()
    sha256 = CharField(max_length=64)
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_attachment"


class MenuStep(BaseModel):
    """One turn of a caller in the voice menus (``appliance/agi/handlers/menu.py``), for the IVR
    report: the menu, what the caller did there (``kind``: enter | key | invalid | timeout |
    directory, with the ``keys``), and where that took them: ``next_menu`` (still in the menus)
    or ``left`` (queue | agent | extension | voicemail | fax | hangup | fallback).  A call whose
    last step left nothing was hung up in ``next_menu``."""

    id = AutoField()
    at = DateTimeField(index=True)
    linkedid = CharField(max_length=64, index=True)
    menu = CharField(max_length=32)
    kind = CharField(max_length=16)
    keys = CharField(max_length=16, default="")
    next_menu = CharField(max_length=32, default="")
    left = CharField(max_length=16, default="")


class MailTemplate(BaseModel):
    """An e-mail to customers, written by an admin: subject and plain-text body with the
    customer's fields as placeholders (``{name}``, ``{phone}``, a custom field's key)."""

    id = AutoField()
    name = CharField(unique=True, max_length=64)
    subject = CharField(max_length=200)
    body = TextField()
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")


class CustomerMail(BaseModel):
    """One e-mail to a customer: what was sent, by whom, and what came of it (the outbox
    says: queued, then sent or failed)."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="mails", on_delete="CASCADE")
    work_order = ForeignKeyField(WorkOrder, null=True, backref="mails", on_delete="SET NULL")
    template = CharField(max_length=64, default="")  # the template's name when sent
    address = CharField(max_length=254)
    subject = CharField(max_length=400)
    body = TextField()
    state = CharField(max_length=8, default="queued")  # queued | sent | failed
    error = TextField(default="")  # the mail server's last answer when failed
    outbox_id = CharField(max_length=64, default="")
    sent_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    done_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("customer", "created_at"), False),)


class WebhookSubscription(BaseModel):
    """An outside system told of events by signed HTTP POSTs (appliance/services/webhooks.py)."""

    id = AutoField()
    url = CharField(max_length=2000)
    events = TextField()  # the event types, comma-separated (webhooks.EVENT_TYPES)
    secret = CharField(max_length=128)  # the HMAC key: shown once at creation and rotation
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(max_length=64)


class WebhookDelivery(BaseModel):
    """The outbox: one row per subscription and event, kept until delivered or failed for good."""

    id = AutoField()
    subscription = ForeignKeyField(WebhookSubscription, backref="deliveries", on_delete="CASCADE")
    event_id = CharField(max_length=40)  # X-CC-Webhook-Id: the same on every try
    type = CharField(max_length=40)
    order_key = CharField(max_length=64, default="")  # a call's linkedid: its events go in order
    body = TextField()  # the JSON sent, fixed when queued
    state = CharField(max_length=10, default="pending")  # pending | delivered | failed
    attempts = IntegerField(default=0)
    created_at = FloatField()  # epoch seconds (the worker's clock)
    next_try = FloatField()
    last_error = TextField(default="")
    last_status = IntegerField(null=True)
    done_at = FloatField(null=True)

    class Meta:
        indexes = ((("state", "id"), False), (("subscription", "id"), False))


ALL_MODELS = (User, ApiToken, WebSession, LoginThrottle, Trunk, Queue, Did, Phone, CardRoute, Agent, QueueMember,
              CallRecord, AuditLog, PauseReason,
              AgentStateLog, TimeCondition, Holiday, BlockedNumber, Customer, Recording, RecordingRule,
              CustomerField, CustomerTag, CustomerNote, FollowUp, CallDisposition, CallOutcome, Message, Prompt,
              Menu, MenuOption, VoiceMessage, Fax, SiteSetting, SipBlock, VoiceCode,
              RatePlan, RatePlanRate, TrunkRatePlan, DidRatePlan,
              Supplier, Product, CustomerAddress, SalesOrder, OrderItem, OrderEvent, Payment, PointsBalance, PointsEntry,
              ReportBucket, ReportSchedule,
              DncNumber, CallerIdNumber, CallerIdUse, CallRefusal,
              WorkOrderType, WorkOrder, WorkOrderEvent,
              CallList, CallListEntry, Campaign, CampaignList, CampaignAttempt,
              CallScript, CallScriptUse, CallScriptRun,
              KbCategory, KbArticle, KbArticleQueue, KbAttachment, MenuStep,
              MailTemplate, CustomerMail, WebhookSubscription, WebhookDelivery)
