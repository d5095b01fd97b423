"""extensions.conf (our part): the generated dialplan.

Calls from trunks ask FastAGI where to go (``route``), then jump to the context the
answer names.  If the AGI server is down, a handler fails or the answer is empty, the
caller goes to ``cc-fallback`` (static, in rootfs/etc/asterisk/extensions.conf),
never into silence.
"""

from appliance import dialplan_vars as v
from appliance import sounds
from appliance.confgen.model import AsteriskModel
from appliance.confgen.pjsip import trunk_endpoint
from appliance.confgen.writer import ConfText, name, sound

FILENAME = "extensions.conf"


def agi_url(model: AsteriskModel, script: str) -> str:
    host = model.network.agi_host
    if ":" in host:  # an IPv6 literal: bracketed, or its last group would read as the port
        host = f"[{host}]"
    return f"agi://{host}:{model.network.agi_port}/{script}"


def said(model: AsteriskModel, key: str) -> str:
    """Sentence ``key`` of ``appliance.sounds`` in the call's language (``CHANNEL(language)``:
    the trunk's, or the voice menu's): Chinese for zh_CN, English for anything else."""
    zh, en = ("&".join(sound(x) for x in sounds.playable(key, language, model.paths.sounds))
              for language in ("zh_CN", "en"))
    return f'${{IF($["${{{v.LANGUAGE}}}" = "zh_CN"]?{zh}:{en})}}'


def _after_agi(conf: ConfText, model: AsteriskModel, answered: str = v.DEST_CONTEXT) -> None:
    """The convention every AGI() call in our dialplan follows (see appliance/agi/server.py):
    the fallback unless the handler ran and set ``answered``, else on to the destination
    (a trunk call's recording was started by ``route`` itself: its failure never stops the
    call)."""
    conf.raw(
        f' same => n,GotoIf($["${{AGISTATUS}}" != "SUCCESS" | "${{{v.AGI_FAILED}}}" = "1"'
        f' | "${{{answered}}}" = ""]?{v.FALLBACK_CONTEXT},agi-failed,1)'
    )
    if answered != v.DEST_CONTEXT:
        conf.raw(f' same => n,GotoIf($["${{{answered}}}" = "read"]?read)')
    conf.raw(f" same => n,UserEvent({v.ROUTE_EVENT},Rule: ${{{v.ROUTE_RULE}}},Queue: ${{{v.THEN_QUEUE}}})")
    if answered == v.DEST_CONTEXT:
        conf.raw(f' same => n,GotoIf($["${{{v.FAX_DETECT}}}" != "1"]?routed)')
        conf.raw(f" same => n,Set(FAXOPT(faxdetect)=cng,{v.FAX_DETECT_SECONDS})")
    label = "(routed)" if answered == v.DEST_CONTEXT else ""
    conf.raw(f" same => n{label},Goto(${{{v.DEST_CONTEXT}}},${{{v.DEST_EXTEN}}},1)")


def _fax_heard(conf: ConfText) -> None:
    """Where res_fax sends a caller whose calling tone it heard (a DID with ``fax_detect``):
    the ``fax`` extension of the context the caller is in, on to the fax receiver."""
    conf.raw(f"exten => fax,1,Goto({v.FAX_CONTEXT},{v.FAX_CALLER_EXTEN},1)")


def _menus(conf: ConfText, model: AsteriskModel) -> None:
    """Voice menus, a turn at a time: FastAGI ``menu`` decides (appliance/engine/menus.py),
    ``Read()`` plays the prompt and reads the keys (a key pressed during the prompt cuts it
    short), and round again until the handler sends the caller on."""
    conf.section(v.MENU_CONTEXT, comment=f"voice menus: enter with {v.MENU} naming the menu")
    _fax_heard(conf)
    conf.raw("exten => s,1,Answer()")
    conf.raw(f" same => n,Set({v.MENU_EVENT}=enter)")
    conf.raw(f" same => n,Set({v.MENU_INPUT}=)")
    conf.raw(f" same => n(step),Set({v.MENU_ACTION}=)")
    conf.raw(f" same => n,AGI({agi_url(model, 'menu')},${{{v.MENU_EVENT}}},${{{v.MENU}}},${{{v.MENU_MODE}}},"
             f"${{{v.MENU_TRIES}}},${{{v.MENU_HOPS}}},${{{v.MENU_INPUT}}})")
    _after_agi(conf, model, answered=v.MENU_ACTION)
    conf.raw(f" same => n(read),Read({v.MENU_INPUT},${{{v.MENU_PROMPT}}},${{{v.MENU_MAXDIGITS}}},"
             f"${{{v.MENU_READ_OPTIONS}}},1,${{{v.MENU_TIMEOUT}}})")
    conf.raw(f" same => n,Set({v.MENU_EVENT}=keys)")
    conf.raw(" same => n,Goto(step)")

    conf.section(v.MENU_END_CONTEXT, comment="callers leaving the menus without a person: goodbye, or not available yet")
    conf.raw(f"exten => {v.MENU_GOODBYE_EXTEN},1,Playback({said(model, 'goodbye')})")
    conf.raw(" same => n,Hangup()")

    conf.section(v.DIRECTORY_CONTEXT, comment="an agent by work number: alone if free, else the caller may press 1 for a queue")

    _fax_heard(conf)
    conf.raw(f"exten => _[0-9]!,1,Set(__{v.QUEUE}=${{{v.THEN_QUEUE}}})")
    conf.raw(" same => n,Answer()")
    conf.raw(f" same => n,Queue({v.PERSONAL_QUEUE_PREFIX}${{EXTEN}},t,,,{v.DIRECTORY_RING_SECONDS})")
    conf.raw(f' same => n,GotoIf($["${{{v.THEN_QUEUE}}}" = ""]?bye)')
    conf.raw(f" same => n,Read({v.CHOICE},{said(model, 'agent-busy')},1,t,1,5)")
    conf.raw(f' same => n,GotoIf($["${{{v.CHOICE}}}" = "1"]?{v.QUEUE_CONTEXT},${{{v.THEN_QUEUE}}},1)')
    conf.raw(f" same => n(bye),Playback({said(model, 'goodbye')})")
    conf.raw(" same => n,Hangup()")


def _surveys(conf: ConfText, model: AsteriskModel) -> None:
    """After the agent hangs up (``Queue(...,c)`` goes on with QUEUESTATUS=CONTINUE), the
    caller keys 1-5; the result, or no answer, goes to the live state as a user event."""
    queues = [q for q in model.queues if q.survey]
    if not queues:
        return
    conf.section(v.SURVEY_CONTEXT, comment="post-call survey: one extension per queue that asks")
    for q in queues:
        queue = name(q.name)
        prompt = "&".join(sound(p) for p in q.survey_prompt) or said(model, "survey")
        conf.raw(f"exten => {queue},1,Set(CC_SURVEY_TRY=0)")
        conf.raw(f" same => n(ask),Read(CC_SURVEY,{prompt},1,t,1,{v.SURVEY_SECONDS})")
        conf.raw(' same => n,GotoIf(${REGEX("^[1-5]$" ${CC_SURVEY})}?rated)')
        conf.raw(' same => n,GotoIf($["${CC_SURVEY}" = ""]?none)')
        conf.raw(" same => n,Set(CC_SURVEY_TRY=$[${CC_SURVEY_TRY} + 1])")
        conf.raw(f" same => n,GotoIf($[${{CC_SURVEY_TRY}} < {v.SURVEY_TRIES}]?ask)")
        conf.raw(f" same => n(none),UserEvent({v.SURVEY_EVENT},Queue: {queue},Score: )")
        conf.raw(f" same => n,Playback({said(model, 'goodbye')})")
        conf.raw(" same => n,Hangup()")
        conf.raw(f" same => n(rated),UserEvent({v.SURVEY_EVENT},Queue: {queue},Score: ${{CC_SURVEY}})")
        conf.raw(f" same => n,Playback({said(model, 'survey-thanks')})")
        conf.raw(" same => n,Hangup()")


def _routes(model: AsteriskModel) -> list:
    """The outbound route: the SIP trunks and the card's ways out with an ``outbound_priority``
    above 0, lowest first (a tie: by name), each with its dialplan label."""
    routes = [(t.outbound_priority, t.name, name(trunk_endpoint(t)), t) for t in model.trunks]
    routes += [(r.outbound_priority, r.name, name(f"card-{r.name}"), r) for r in model.card_routes]
    return [(label, route) for priority, _, label, route in sorted(routes, key=lambda r: r[:2]) if priority > 0]


def _dial_out(conf: ConfText, model: AsteriskModel, dial_options: str) -> None:
    """Dial ``${EXTEN}`` through the outbound route (``_routes``: SIP trunks and the card's
    FXO lines and PRI spans, in the admin's order); goes on at label ``done`` with DIALSTATUS.

    The next route is tried when one refuses the call (DIALSTATUS ``CHANUNAVAIL``: a SIP 4xx
    or 5xx such as 403, 404, 480, 500, or the trunk unreachable; ``CONGESTION``: 503) or is
    full: a trunk with ``max_channels``, or a card route (its capacity: the span's B-channels,
    the FXO lines), that has that many calls up already, in or out (its channels,
    ``PJSIP/trunk-<name>-<id>``, ``DAHDI/i<span>/...``, ``DAHDI/<line>-<n>``, counted by
    ``CHANNELS``), is skipped as ``CHANUNAVAIL`` without being dialled.  chan_dahdi answers
    a group with no channel free (taken meanwhile, or in alarm) as ``BUSY`` without making a
    channel: a card route's ``BUSY`` with no hang-up cause from one of its own channels
    (``HANGUPCAUSE_KEYS``) is the route's, not the callee's, and the next is tried too.
    Busy (486, 600, or the callee's busy on the card), no answer, an answer or the caller
    hanging up end the attempt: another carrier would ring the same person."""
    routes = _routes(model)
    labels = [label for label, _ in routes] + ["done"]
    for i, (label, route) in enumerate(routes):
        card = not hasattr(route, "host")
        if card:
            dial = f"Dial(DAHDI/g{route.group}/${{EXTEN}},60{dial_options})"
            limit, pattern = route.channels, route.pattern
        else:
            dial = f"Dial(PJSIP/${{EXTEN}}@{label},60{dial_options})"
            limit, pattern = route.max_channels, f"^PJSIP/{label}-[0-9a-f]+$"
        if limit:
            conf.raw(f" same => n({label}),Set({v.TRUNK_CALLS}=${{CHANNELS({pattern})}})")
            conf.raw(f" same => n,GotoIf($[${{FIELDQTY({v.TRUNK_CALLS},{v.SPACE})}} < {limit}]?{label}-dial)")
            conf.raw(" same => n,Set(DIALSTATUS=CHANUNAVAIL)")  # full: as if it could not take the call
            conf.raw(f" same => n,UserEvent({v.TRUNK_FULL_EVENT},Trunk: {route.name})")
            conf.raw(f" same => n,Goto({labels[i + 1]})")
            conf.raw(f" same => n({label}-dial),{dial}")
        else:
            conf.raw(f" same => n({label}),{dial}")
        if card:
            conf.raw(f' same => n,GotoIf($["${{DIALSTATUS}}" = "BUSY" & ${{REGEX("{pattern.lstrip("^")}" '
                     f'${{HANGUPCAUSE_KEYS()}})}} = 0]?{labels[i + 1]})')
        conf.raw(' same => n,GotoIf($["${DIALSTATUS}" != "CHANUNAVAIL" & "${DIALSTATUS}" != "CONGESTION"]?done)')
    if not routes:
        conf.raw(f" same => n,Playback({said(model, 'noservice')})")


def _call_control(conf: ConfText, model: AsteriskModel) -> None:
    """Hold, consultation, attended transfer and three-way, driven by AMI (services/calls.py).

    The customer's leg waits with music and the agent's leg waits in silence; each checks
    every second that the other (``CC_PEER``) still exists and hangs up when it is gone,
    so a hold can never outlive the call.  Unhold is AMI ``Bridge`` of the two legs.
    """
    event = f"UserEvent({v.CONTROL_EVENT},State: {{}})"
    conf.section(v.HOLD_CONTEXT, comment="the customer, while the agent holds the call or consults someone")
    conf.raw(f"exten => s,1,{event.format('held')}")
    conf.raw(" same => n(wait),MusicOnHold(,1)")
    conf.raw(f" same => n,GotoIf($[${{CHANNEL_EXISTS(${{{v.PEER}}})}}]?wait)")
    conf.raw(" same => n,Hangup()")

    conf.section(v.HELD_CONTEXT, comment="the agent's leg while their customer is on hold")
    conf.raw("exten => s,1,Answer()")
    conf.raw(" same => n(wait),Wait(1)")
    conf.raw(f" same => n,GotoIf($[${{CHANNEL_EXISTS(${{{v.PEER}}})}}]?wait)")
    conf.raw(" same => n,Hangup()")

    conf.section(v.CONSULT_CONTEXT,
                 comment="the agent calls someone while the customer holds, back to the customer if they hang up")
    conf.raw(f"exten => _[+0-9]!,1,{event.format('consulting')}")
    conf.raw(f' same => n,GotoIf($["${{{v.CONSULT_PHONE}}}" = ""]?number)')
    conf.raw(f" same => n,Dial(${{{v.CONSULT_PHONE}}},30,g)")  # PJSIP/<extension>, or an analog port
    conf.raw(" same => n,Goto(done)")
    conf.raw(" same => n(number),NoOp(consulting ${EXTEN})")
    _dial_out(conf, model, ",g")
    conf.raw(f' same => n(done),GotoIf($["${{{v.TRANSFER_DONE}}}" = "1"]?end)')
    conf.raw(f" same => n,GotoIf($[${{CHANNEL_EXISTS(${{{v.PEER}}})}}]?back)")
    conf.raw(" same => n(end),Hangup()")
    conf.raw(f" same => n(back),{event.format('resumed')}")
    conf.raw(f" same => n,Bridge(${{{v.PEER}}})")
    conf.raw(" same => n,Hangup()")

    conf.section(v.CONFERENCE_CONTEXT, comment="three-way: the customer, the agent and whom they consulted")
    conf.raw(f"exten => s,1,{event.format('conference')}")
    conf.raw(f" same => n,ConfBridge(${{{v.CONFERENCE_ROOM}}},cc-bridge,cc-user)")
    conf.raw(" same => n,Hangup()")


def _long_signin(conf: ConfText, model: AsteriskModel) -> None:
    """Long sign-in (app_agent_pool): the phone stays in AgentLogin for the shift.

    FastAGI ``agent long`` signs the agent in (their queues now offer calls to
    ``Local/<number>@cc-agent-pool``) and names them in ``CC_AGENT``; hanging up the
    phone logs the agent off the pool, which the engine sees (AMI ``AgentLogoff``) and
    signs them out of their queues.  The agent ends a call with the disconnect code of
    features.conf (``*0``) or from the web UI, and stays connected for the next.
    """
    conf.section(v.AGENT_LOGIN_CONTEXT, comment="an agent's phone signed in for the shift: calls come with a beep")
    conf.raw("exten => s,1,Answer()")
    conf.raw(f" same => n,AGI({agi_url(model, 'agent')},long)")
    conf.raw(f' same => n,GotoIf($["${{{v.RESULT}}}" != "ok"]?failed)')
    conf.raw(" same => n,Set(CHANNEL(dtmf_features)=H)")
    conf.raw(f" same => n,AgentLogin(${{{v.AGENT}}},s)")
    conf.raw(' same => n,GotoIf($["${AGENT_STATUS}" = ""]?done)')
    conf.raw(" same => n(failed),Playback(beeperr)")
    conf.raw(" same => n(done),Hangup()")

    conf.section(v.AGENT_POOL_CONTEXT, comment="queues reach agents signed in for the shift here")
    conf.raw("exten => _[0-9]!,1,AgentRequest(${EXTEN})")
    conf.raw(" same => n,Hangup()")


def _voicemail(conf: ConfText, model: AsteriskModel) -> None:
    """A caller leaves a message for a queue (the extension): FastAGI ``voicemail`` names the
    WAV in the recording spool, Record() writes it (``k``: kept when the caller hangs up,
    which is how most messages end), the pipeline makes the MP3 once the call is over.
    Refused (the disk guard) or failed: the caller hears the fallback's message."""
    conf.section(v.VOICEMAIL_CONTEXT, comment="leave a message for a queue's team (after hours, nobody free)")
    _fax_heard(conf)
    conf.raw("exten => _[a-z]!,1,Answer()")
    conf.raw(f" same => n,Set({v.VOICEMAIL_FILE}=)")
    conf.raw(f" same => n,AGI({agi_url(model, 'voicemail')},${{EXTEN}})")
    conf.raw(f' same => n,GotoIf($["${{{v.VOICEMAIL_FILE}}}" = ""]?{v.FALLBACK_CONTEXT},voicemail-unavailable,1)')
    conf.raw(f" same => n,Playback({said(model, 'leave-message')})")
    conf.raw(f" same => n,Record(${{{v.VOICEMAIL_FILE}}},{v.VOICEMAIL_SILENCE_SECONDS},"
             f"{v.VOICEMAIL_MAX_SECONDS},k)")
    conf.raw(f" same => n,Playback({said(model, 'message-saved')})")
    conf.raw(" same => n,Hangup()")


def _fax(conf: ConfText, model: AsteriskModel) -> None:
    """A fax line (the extension is the DID): FastAGI ``fax`` names the TIFF, ReceiveFAX
    (res_fax_spandsp) writes it; the fax service makes the PDF after the call, and a call
    that brought no fax (a person calling the fax number) is recorded as such."""
    conf.section(v.FAX_CONTEXT, comment="receive a fax on a DID set for fax")
    conf.raw(f"exten => {v.FAX_CALLER_EXTEN},1,Goto(${{IF($[\"${{{v.DID}}}\" = \"\"]?0:${{{v.DID}}})}},1)")
    conf.raw("exten => _[+0-9]!,1,Answer()")
    conf.raw(f" same => n,Set({v.FAX_FILE}=)")
    conf.raw(f" same => n,AGI({agi_url(model, 'fax')},${{EXTEN}})")
    conf.raw(f' same => n,GotoIf($["${{{v.FAX_FILE}}}" = ""]?{v.FALLBACK_CONTEXT},fax-unavailable,1)')
    conf.raw(f" same => n,ReceiveFAX(${{{v.FAX_FILE}}})")
    conf.raw(" same => n,Hangup()")

    conf.section(v.FAX_SEND_CONTEXT, comment="send a fax (answered side of an AMI Originate; services/fax_out.py)")
    conf.raw(f"exten => send,1,SendFAX(${{{v.FAX_FILE}}})")
    conf.raw(" same => n,Hangup()")
    conf.raw(f"exten => h,1,AGI({agi_url(model, 'fax_out')},sent,${{{v.FAX_JOB}}})")
    conf.section(v.FAX_DIAL_CONTEXT, comment="the number a fax is sent to, through the trunks in order")
    conf.raw("exten => _[+0-9]!,1,NoOp(fax job ${%s} to ${EXTEN})" % v.FAX_JOB)
    conf.raw(" same => n,UserEvent(CcOutbound,Agent: ,Number: ${EXTEN})")  # its call record: outbound, to there
    _dial_out(conf, model, "")
    conf.raw(' same => n(done),GotoIf($["${DIALSTATUS}" = "ANSWER"]?end)')
    conf.raw(f" same => n,AGI({agi_url(model, 'fax_out')},dialed,${{{v.FAX_JOB}}},${{DIALSTATUS}})")
    conf.raw(" same => n(end),Hangup()")


def _voice_codes(conf: ConfText, model: AsteriskModel) -> None:
    """A verification code said to a number (services/voicecodes.py): the dialling side
    reports an unanswered call with DIALSTATUS; the answered side reports the answer, plays
    the call's own audio file (its name says nothing of the code) and reports whether it
    played to the end."""
    url = agi_url(model, v.VOICECODE_SCRIPT)
    job = f"${{{v.VOICECODE_JOB}}}"
    conf.section(v.VOICECODE_SAY_CONTEXT, comment="say a verification code (answered side of an AMI Originate)")
    conf.raw(f"exten => s,1,AGI({url},answered,{job})")
    conf.raw(f" same => n,Playback(${{{v.VOICECODE_FILE}}})")
    conf.raw(f" same => n,AGI({url},said,{job},${{PLAYBACKSTATUS}})")
    conf.raw(" same => n,Hangup()")
    conf.raw(f"exten => h,1,AGI({url},ended,{job})")
    conf.section(v.VOICECODE_DIAL_CONTEXT,
                 comment="the number a verification code is said to, through the trunks in order")
    # an outgoing call of nobody's (no agent) in the live state and the call records
    conf.raw(f"exten => _[+0-9]!,1,UserEvent({v.OUTBOUND_EVENT},Agent: ,Number: ${{EXTEN}})")
    _dial_out(conf, model, "")
    conf.raw(' same => n(done),GotoIf($["${DIALSTATUS}" = "ANSWER"]?end)')
    conf.raw(f" same => n,AGI({url},dialed,{job},${{DIALSTATUS}})")
    conf.raw(" same => n(end),Hangup()")


def _campaigns(conf: ConfText, model: AsteriskModel) -> None:
    """What a campaign's answered call does when no agent takes it first
    (services/agentless.py): a voice notification, "press a key to talk to an agent", an
    automatic survey; and answering-machine detection, a Gosub every campaign call runs
    first (the dialer's agent modes too).  FastAGI ``campaign`` says what to play and where
    to go, and takes every result: AMD's, the message heard, the key, the survey's answers.
    A failed handler (no ``ok``) sends the callee to the fallback's message, never silence;
    a failed AMD lookup lets the call go on as a person's."""
    url = agi_url(model, v.CAMPAIGN_SCRIPT)
    ids = f"${{{v.CAMPAIGN}}},${{{v.ATTEMPT}}}"
    ok_or_fallback = f' same => n,GotoIf($["${{{v.RESULT}}}" != "ok"]?{v.FALLBACK_CONTEXT},agi-failed,1)'
    to_agent = f' same => n,GotoIf($["${{{v.AMD_NEXT}}}" = "agent"]?agent,1)'

    conf.section(v.AMD_CONTEXT, comment="Gosub: answering-machine detection with the campaign's settings")
    conf.raw(f"exten => s,1,Set({v.AMD_ARGS}=)")
    conf.raw(f" same => n,Set({v.AMD_NEXT}=go)")
    conf.raw(f" same => n,AGI({url},amd,{ids})")
    conf.raw(f' same => n,GotoIf($["${{{v.AMD_ARGS}}}" = ""]?done)')
    conf.raw(f" same => n,AMD(${{{v.AMD_ARGS}}})")
    conf.raw(f" same => n,AGI({url},amd-result,{ids},${{AMDSTATUS}},${{AMDCAUSE}})")
    conf.raw(f' same => n,GotoIf($["${{{v.AMD_NEXT}}}" = "hangup"]?hangup)')
    conf.raw(f' same => n,GotoIf($["${{{v.AMD_NEXT}}}" = "message"]?message)')
    conf.raw(" same => n(done),Return()")
    conf.raw(" same => n(hangup),Hangup()")
    # a machine: its greeting (and beep) over, it records the message
    conf.raw(f" same => n(message),WaitForSilence({v.AMD_SILENCE_MS},1,{v.AMD_WAIT_SECONDS})")
    conf.raw(" same => n,StackPop()")
    conf.raw(f" same => n,Goto({v.AGENTLESS_CONTEXT},message,1)")

    conf.section(v.AGENTLESS_CONTEXT, comment="a campaign's answered call without an agent: by the campaign's mode")
    conf.raw(f"exten => notification,1,Gosub({v.AMD_CONTEXT},s,1)")
    conf.raw(to_agent)
    conf.raw(" same => n,Goto(message,1)")
    conf.raw(f"exten => message,1,Set({v.RESULT}=)")
    conf.raw(f" same => n,AGI({url},message,{ids})")
    conf.raw(ok_or_fallback)
    conf.raw(f" same => n,Playback(${{{v.CAMPAIGN_PLAY}}})")
    conf.raw(f" same => n,AGI({url},heard,{ids},${{PLAYBACKSTATUS}})")
    conf.raw(" same => n,Hangup()")

    conf.raw(f"exten => press-key,1,Gosub({v.AMD_CONTEXT},s,1)")
    conf.raw(to_agent)
    conf.raw(f" same => n,Set({v.RESULT}=)")
    conf.raw(f" same => n,AGI({url},message,{ids})")
    conf.raw(ok_or_fallback)
    conf.raw(f" same => n,Set({v.CAMPAIGN_TRY}=0)")
    conf.raw(f" same => n(ask),Set({v.CAMPAIGN_TRY}=$[${{{v.CAMPAIGN_TRY}}} + 1])")
    conf.raw(f" same => n,Read({v.CAMPAIGN_KEYS},${{{v.CAMPAIGN_PLAY}}},1,,1,{v.CAMPAIGN_KEY_SECONDS})")
    conf.raw(f" same => n,Set({v.CAMPAIGN_NEXT}=)")
    conf.raw(f" same => n,AGI({url},key,{ids},${{{v.CAMPAIGN_TRY}}},${{{v.CAMPAIGN_KEYS}}})")
    conf.raw(f' same => n,GotoIf($["${{{v.CAMPAIGN_NEXT}}}" = "queue"]?agent,1)')
    conf.raw(f' same => n,GotoIf($["${{{v.CAMPAIGN_NEXT}}}" = "again"]?ask)')
    conf.raw(f" same => n,Playback({said(model, 'goodbye')})")
    conf.raw(" same => n,Hangup()")

    conf.raw(f"exten => survey,1,Gosub({v.AMD_CONTEXT},s,1)")
    conf.raw(to_agent)
    conf.raw(f" same => n,Set({v.CAMPAIGN_QUESTION}=0)")
    conf.raw(f" same => n,Set({v.CAMPAIGN_KEYS}=)")
    conf.raw(f" same => n(next),Set({v.RESULT}=)")
    conf.raw(f" same => n,AGI({url},survey,{ids},${{{v.CAMPAIGN_QUESTION}}},${{{v.CAMPAIGN_KEYS}}})")
    conf.raw(f' same => n,GotoIf($["${{{v.RESULT}}}" = "done"]?done)')
    conf.raw(ok_or_fallback)
    conf.raw(f" same => n,Set({v.CAMPAIGN_QUESTION}=$[${{{v.CAMPAIGN_QUESTION}}} + 1])")
    # asked twice when no key comes
    conf.raw(f" same => n,Read({v.CAMPAIGN_KEYS},${{{v.CAMPAIGN_PLAY}}},1,,2,{v.CAMPAIGN_KEY_SECONDS})")
    conf.raw(" same => n,Goto(next)")
    conf.raw(f" same => n(done),Playback({said(model, 'survey-thanks')})")
    conf.raw(" same => n,Hangup()")

    # the callee asked for an agent (or a machine the campaign passes to one): the normal
    # queue path, so a normal queued call, recorded by policy, on the wallboard
    conf.raw(f'exten => agent,1,GotoIf($["${{{v.CAMPAIGN_QUEUE}}}" = ""]?{v.FALLBACK_CONTEXT},queue,1)')
    conf.raw(f" same => n,Goto({v.QUEUE_CONTEXT},${{{v.CAMPAIGN_QUEUE}}},1)")
    conf.raw(f"exten => h,1,AGI({url},ended,{ids})")


def _dialer(conf: ConfText, model: AsteriskModel) -> None:
    """Calls the dialer places for a campaign (services/dialer.py).  The dialling side (the
    Local channel's ;2) presents the caller-ID pool's number, goes through the trunks in
    order and reports how it ended from its h extension.  The answered side runs the
    campaign's mode: an agent mode asks FastAGI ``dialer connect`` for a free agent and
    puts the callee through to them (their personal queue: the normal screen pop, recording
    and wallboard); with nobody free, or after the agents tried, the callee hears at once
    that nobody can take the call (the call is abandoned): never silence."""
    url = agi_url(model, v.DIALER_SCRIPT)
    attempt = f"${{{v.ATTEMPT}}}"
    conf.section(v.CAMPAIGN_DIAL_CONTEXT, comment="a campaign's number, through the trunks in order")
    conf.raw(f"exten => _[+0-9]!,1,UserEvent({v.OUTBOUND_EVENT},Agent: ,Number: ${{EXTEN}})")
    conf.raw(f' same => n,Set(CALLERID(num)=${{IF($["${{{v.CALLER_ID}}}" != ""]?${{{v.CALLER_ID}}}:${{CALLERID(num)}})}})')
    _dial_out(conf, model, "")
    conf.raw(" same => n(done),Hangup()")
    conf.raw(f"exten => h,1,AGI({url},dialed,{attempt},${{DIALSTATUS}})")
    conf.section(v.CAMPAIGN_CONTEXT, comment="a campaign's call, answered: the extension is the campaign's mode")
    for mode in v.CAMPAIGN_AGENT_MODES:  # answering-machine detection first, if the campaign has it
        conf.raw(f"exten => {mode},1,Gosub({v.AMD_CONTEXT},s,1)")
        conf.raw(" same => n,Goto(agent,1)")
    conf.raw(f"exten => agent,1,Set({v.CAMPAIGN_AGENT}=)")
    conf.raw(f" same => n,AGI({url},connect,{attempt})")
    conf.raw(f' same => n,GotoIf($["${{{v.CAMPAIGN_AGENT}}}" = ""]?abandon)')
    conf.raw(f" same => n,Queue({v.PERSONAL_QUEUE_PREFIX}${{{v.CAMPAIGN_AGENT}}},t,,,{v.CAMPAIGN_CONNECT_SECONDS},,"
             f"{v.RECORD_CONNECT_CONTEXT})")
    conf.raw(" same => n,Goto(1)")  # not put through (the agent was taken meanwhile): the next one, or none
    conf.raw(f" same => n(abandon),Playback({said(model, 'campaign-no-agent')})")
    conf.raw(" same => n,Hangup()")


def _prompt_recording(conf: ConfText, model: AsteriskModel) -> None:
    """An admin records a prompt from their phone: FastAGI ``prompt_record`` checks who and
    names the files (appliance/services/prompt_phone.py); Record() beeps and records until
    # or silence; the take, converted like an upload, is played back; 1 keeps it, 2 records
    again.  ``CC_RESULT`` is reset before every AGI, so a failed handler reads as 'no'."""
    url = agi_url(model, "prompt_record")

    def agi(args: str) -> None:
        conf.raw(f" same => n,Set({v.RESULT}=)")
        conf.raw(f" same => n,AGI({url},{args})")

    ok, not_ok = (f'$["${{{v.RESULT}}}" {op} "ok"]' for op in ("=", "!="))
    conf.section(v.PROMPT_RECORD_CONTEXT, comment="an admin records a prompt from their phone")
    conf.raw("exten => s,1,Answer()")
    agi("start")
    conf.raw(f" same => n,GotoIf({not_ok}?denied)")
    conf.raw(" same => n,Set(CC_PR_TRY=0)")
    conf.raw(f" same => n(number),Read({v.PROMPT_NUMBER},{said(model, 'rec-number')},6,,1,10)")
    agi(f"number,${{{v.PROMPT_NUMBER}}},${{READSTATUS}}")
    conf.raw(f" same => n,GotoIf({ok}?record)")
    conf.raw(" same => n,Set(CC_PR_TRY=$[${CC_PR_TRY} + 1])")
    conf.raw(f" same => n,GotoIf($[${{CC_PR_TRY}} >= {v.PROMPT_TRIES}]?bye)")
    conf.raw(f" same => n,Playback({said(model, 'rec-no-prompt')})")
    conf.raw(" same => n,Goto(number)")
    conf.raw(" same => n(record),Set(CC_PR_TAKES=$[0${CC_PR_TAKES} + 1])")
    conf.raw(f" same => n,GotoIf($[${{CC_PR_TAKES}} > {v.PROMPT_TRIES}]?bye)")
    conf.raw(f" same => n,Playback({said(model, 'rec-start')})")
    conf.raw(f" same => n,Record(${{{v.PROMPT_TAKE}}}.wav,{v.PROMPT_SILENCE_SECONDS},{v.PROMPT_MAX_SECONDS})")
    agi("take")
    conf.raw(f" same => n,GotoIf({ok}?review)")
    conf.raw(f" same => n,Playback({said(model, 'rec-bad')})")
    conf.raw(" same => n,Goto(record)")
    conf.raw(f" same => n(review),Read({v.CHOICE},${{{v.PROMPT_DRAFT}}}&{said(model, 'rec-review')},1,,2,5)")
    conf.raw(f' same => n,GotoIf($["${{{v.CHOICE}}}" = "2"]?record)')
    conf.raw(f' same => n,GotoIf($["${{{v.CHOICE}}}" != "1"]?bye)')
    agi(f"keep,${{{v.PROMPT_NUMBER}}}")
    conf.raw(f" same => n,GotoIf({not_ok}?failed)")
    conf.raw(f" same => n,Playback(${{{v.PROMPT_SAVED}}})")
    conf.raw(" same => n,Hangup()")
    conf.raw(" same => n(failed),Playback(beeperr)")
    conf.raw(f" same => n(bye),Playback({said(model, 'goodbye')})")
    conf.raw(" same => n,Hangup()")
    conf.raw(f" same => n(denied),Playback({said(model, 'rec-denied')})")
    conf.raw(" same => n,Hangup()")


def render(model: AsteriskModel) -> str:
    conf = ConfText("dialplan")
    conf.section("globals", comment="read by the hand-written contexts of rootfs/etc/asterisk/extensions.conf")
    conf.raw(f"{v.SOUNDS_GLOBAL}={model.paths.sounds}")
    conf.raw('#tryinclude "appliance/instance.conf"')  # CC_INSTANCE, written at each start (pbx.py)
    conf.section(v.TRUNK_CONTEXT, comment="calls arriving on any trunk or PRI span, by dialled number (DID)")
    _fax_heard(conf)
    # no dialled number at all (a span whose carrier sends no called number): not in service
    conf.raw(f"exten => s,1,Goto({v.FALLBACK_CONTEXT},no-route,1)")
    conf.raw("exten => _[+0-9].,1,NoOp(inbound call to ${EXTEN} from ${CALLERID(num)})")
    conf.raw(f" same => n,Set(__{v.DID}=${{EXTEN}})")
    conf.raw(f" same => n,AGI({agi_url(model, 'route')},${{CHANNEL(linkedid)}})")
    _after_agi(conf, model)

    conf.section(v.QUEUE_CONTEXT, comment="one extension per queue")

    _fax_heard(conf)
    for q in model.queues:
        queue = name(q.name)
        conf.raw(f"exten => {queue},1,Set(__{v.QUEUE}={queue})")
        conf.raw(" same => n,Answer()")
        conf.raw(f" same => n,Queue({queue},{'tc' if q.survey else 't'},,,{q.max_wait_seconds or ''},,"
                 f"{v.RECORD_CONNECT_CONTEXT})")
        if q.survey:  # answered, and the agent hung up first: the caller rates the call
            conf.raw(f' same => n,GotoIf($["${{QUEUESTATUS}}" = "CONTINUE"]?{v.SURVEY_CONTEXT},{queue},1)')
        conf.raw(f" same => n,Set({v.FALLBACK_REASON}=queue-${{TOLOWER(${{QUEUESTATUS}})}})")
        conf.raw(f" same => n,UserEvent({v.QUEUE_EXIT_EVENT},Queue: {queue},Status: ${{QUEUESTATUS}})")
        if q.overflow_queue:
            # Nobody could answer (or the longest wait passed): the next queue, at most
            # MAX_OVERFLOW_HOPS times per call, so a chain of queues always ends.
            target = name(q.overflow_queue)
            conf.raw(f" same => n,Set(__{v.OVERFLOW_HOPS}=$[0${{{v.OVERFLOW_HOPS}}} + 1])")
            conf.raw(f" same => n,GotoIf($[${{{v.OVERFLOW_HOPS}}} > {v.MAX_OVERFLOW_HOPS}]?fallback)")
            conf.raw(f" same => n,UserEvent({v.OVERFLOW_EVENT},From: {queue},To: {target},"
                     f"Reason: ${{{v.FALLBACK_REASON}}})")
            conf.raw(f" same => n,Goto({v.QUEUE_CONTEXT},{target},1)")
        if q.voicemail:  # nobody answered: a message for this queue's team instead
            conf.raw(f" same => n(fallback),Set({v.VOICEMAIL_REASON}=${{{v.FALLBACK_REASON}}})")
            conf.raw(f" same => n,Goto({v.VOICEMAIL_CONTEXT},{queue},1)")
        else:
            conf.raw(f" same => n(fallback),Goto({v.FALLBACK_CONTEXT},queue,1)")

    # The agent answered and hung up first (``c``: the caller goes on): the survey of the
    # queue after the agent, if it has one, as for a call the queue itself connected.
    conf.section(v.AGENT_FIRST_CONTEXT, comment="one agent first (alone, only if free), then a queue")

    _fax_heard(conf)
    conf.raw(f"exten => _[0-9]!,1,Set(__{v.QUEUE}=${{{v.THEN_QUEUE}}})")
    conf.raw(" same => n,Answer()")
    conf.raw(f" same => n,Queue({v.PERSONAL_QUEUE_PREFIX}${{EXTEN}},tc,,,${{{v.FIRST_TIMEOUT}}},,"
             f"{v.RECORD_CONNECT_CONTEXT})")
    conf.raw(' same => n,GotoIf($["${QUEUESTATUS}" = "CONTINUE"]?answered)')
    conf.raw(f" same => n,Goto({v.QUEUE_CONTEXT},${{{v.THEN_QUEUE}}},1)")
    conf.raw(f" same => n(answered),GotoIf(${{DIALPLAN_EXISTS({v.SURVEY_CONTEXT},${{{v.THEN_QUEUE}}},1)}}"
             f"?{v.SURVEY_CONTEXT},${{{v.THEN_QUEUE}}},1)")
    conf.raw(" same => n,Hangup()")

    conf.section(v.RECORD_CONNECT_CONTEXT, comment="app_queue runs this on the agent's leg as they answer")
    conf.raw(f"exten => s,1,AGI({agi_url(model, 'record')},connect,${{CHANNEL(linkedid)}})")
    conf.raw(" same => n,Return()")

    conf.section(v.PIN_CONTEXT, comment=f"member PIN: {v.PIN_TRIES} tries, checked by FastAGI against the customer")

    _fax_heard(conf)
    conf.raw("exten => s,1,Answer()")
    conf.raw(" same => n,Set(CC_PIN_TRY=0)")
    conf.raw(f" same => n(ask),Read(CC_PIN,{said(model, 'pin')},8,,1,4)")
    conf.raw(f" same => n,AGI({agi_url(model, 'pin')},${{CC_PIN}})")
    conf.raw(f' same => n,GotoIf($["${{{v.RESULT}}}" = "ok"]?${{{v.AFTER_CONTEXT}}},${{{v.AFTER_EXTEN}}},1)')
    conf.raw(" same => n,Set(CC_PIN_TRY=$[${CC_PIN_TRY} + 1])")
    conf.raw(f" same => n,GotoIf($[${{CC_PIN_TRY}} >= {v.PIN_TRIES}]?failed)")
    conf.raw(f" same => n,Playback({said(model, 'pin-wrong')})")
    conf.raw(" same => n,Goto(ask)")
    conf.raw(f" same => n(failed),Set({v.FALLBACK_REASON}=pin-failed)")
    conf.raw(f" same => n,Goto({v.FALLBACK_CONTEXT},pin-failed,1)")

    conf.section(v.VIP_CONTEXT, comment="a customer's account manager first; 0 goes to the queue instead")

    _fax_heard(conf)
    conf.raw("exten => _[0-9]!,1,Answer()")
    conf.raw(f" same => n,Read({v.CHOICE},{said(model, 'one-moment')},1,,1,2)")
    conf.raw(f' same => n,GotoIf($["${{{v.CHOICE}}}" = "0"]?{v.QUEUE_CONTEXT},${{{v.THEN_QUEUE}}},1)')
    conf.raw(f" same => n,Goto({v.AGENT_FIRST_CONTEXT},${{EXTEN}},1)")

    conf.section(v.OUTBOUND_CONTEXT, comment="outgoing calls: through the trunks in order, the next if one cannot")
    conf.raw(f"exten => _[+0-9]!,1,UserEvent({v.OUTBOUND_EVENT},Agent: ${{{v.AGENT}}},Number: ${{EXTEN}})")
    conf.raw(f" same => n,AGI({agi_url(model, 'record')},outbound,${{CHANNEL(linkedid)}},${{{v.AGENT}}})")
    # a caller-ID pool's number, when compliance chose one (services/compliance.py)
    # (IF, not ExecIf: app_exec is not among the modules loaded)
    conf.raw(f' same => n,Set(CALLERID(num)=${{IF($["${{{v.CALLER_ID}}}" != ""]?${{{v.CALLER_ID}}}:${{CALLERID(num)}})}})')
    _dial_out(conf, model, "")
    # nobody took it: a busy tone, or "the number you have dialled is not in service"
    conf.raw(' same => n(done),GotoIf($["${DIALSTATUS}" = "ANSWER" | "${DIALSTATUS}" = "CANCEL" | "${DIALSTATUS}" = ""]?end)')
    conf.raw(' same => n,GotoIf($["${DIALSTATUS}" = "BUSY"]?busy)')
    conf.raw(f" same => n,Playback({said(model, 'noservice')})")
    conf.raw(" same => n,Goto(end)")
    conf.raw(" same => n(busy),Busy(4)")
    conf.raw(" same => n(end),Hangup()")

    _menus(conf, model)
    _surveys(conf, model)
    _call_control(conf, model)
    _long_signin(conf, model)
    _voicemail(conf, model)
    _fax(conf, model)
    _voice_codes(conf, model)
    _campaigns(conf, model)
    _dialer(conf, model)
    _prompt_recording(conf, model)

    conf.section(v.PHONE_CONTEXT, comment="calls from agents' phones: feature codes, other phones by extension")
    for code, (action, prompt) in v.FEATURE_CODES.items():
        conf.raw(f"exten => {code},1,Answer()")
        conf.raw(f" same => n,AGI({agi_url(model, 'agent')},{action})")
        conf.raw(f' same => n,Playback(${{IF($["${{{v.RESULT}}}" = "ok"]?{prompt}:beeperr)}})')
        conf.raw(" same => n,Hangup()")
    conf.raw(f"exten => {v.LONG_SIGNIN_CODE},1,Goto({v.AGENT_LOGIN_CONTEXT},s,1)")
    conf.raw(f"exten => {v.PROMPT_RECORD_CODE},1,Goto({v.PROMPT_RECORD_CONTEXT},s,1)")
    for ext, device in sorted([(name(p.extension), f"PJSIP/{name(p.extension)}") for p in model.phones]
                              + [(name(p.extension), f"DAHDI/{int(p.channel)}" if p.on_card else "")
                                 for p in model.fxs_phones]):
        if not device:  # an analog phone whose port the card no longer has: not in service, never out
            conf.raw(f"exten => {ext},1,Goto({v.FALLBACK_CONTEXT},{v.PORT_MISSING_REASON},1)")
            continue
        # the phone's state for busy lamp (BLF) keys: desk phones subscribe to their colleagues' hints
        conf.raw(f"exten => {ext},hint,{device}")
        conf.raw(f"exten => {ext},1,AGI({agi_url(model, 'record')},internal,${{CHANNEL(linkedid)}})")
        conf.raw(f" same => n,Dial({device},30)")
        conf.raw(" same => n,Hangup()")
    # Any other number goes out through the trunks (cc-outbound) only if outbound
    # compliance allows it (FastAGI calling, services/compliance.py: the calling permission
    # of the phone's agent, blacklist, do-not-call, calling window, trunks' capacity, the
    # caller-ID pool); anything but "ok" (refused, or the handler failed) hears that the
    # call is not allowed and is hung up on.
    conf.raw(f"exten => _[+0-9]!,1,Set({v.RESULT}=)")
    conf.raw(f" same => n,Set({v.CALLER_ID}=)")
    conf.raw(f" same => n,AGI({agi_url(model, v.CALLING_SCRIPT)},${{EXTEN}})")
    conf.raw(f' same => n,GotoIf($["${{{v.RESULT}}}" = "ok"]?{v.OUTBOUND_CONTEXT},${{EXTEN}},1)')
    conf.raw(" same => n,Answer()")
    conf.raw(f" same => n,Playback({said(model, 'not-permitted')})")
    conf.raw(" same => n,Hangup()")
    return conf.render()
