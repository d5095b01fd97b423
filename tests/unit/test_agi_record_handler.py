"""The FastAGI 'record' handler takes the call's facts from its arguments (the dialplan passes
linkedid, where routing sent the call, the agent): no round trip with Asterisk to ask for them
on the call's setup path. Without arguments it asks the channel, with the same outcome."""

from __future__ import annotations

from types import SimpleNamespace

from appliance import dialplan_vars as v
from appliance.agi.handlers import record
from appliance.confgen.extensions import render
from test_confgen import model  # the golden files' model

CHANNEL = "PJSIP/trunk-pstn-0000002a"


class Session:
    """The channel as the handler sees it; every question asked of it is noted."""

    def __init__(self, variables: dict[str, str]):
        self.variables, self.asked, self.ran = dict(variables), [], []

    def get_variable(self, name):
        self.asked.append(name)
        return self.variables.get(name)

    def get_full_variable(self, expression):
        self.asked.append(expression)
        return self.variables.get(expression)

    def set_variable(self, name, value):
        self.variables[name] = value

    def exec_app(self, app, *args):
        self.ran.append((app, *args))


class Recordings:
    """What the recording service is asked to do (its own tests are test_recording_*)."""

    def __init__(self):
        self.started, self.active = [], {}

    def call_started(self, linkedid, direction, channel, **facts):
        self.started.append((linkedid, direction, channel, facts))
        self.active[linkedid] = SimpleNamespace(state="recording")
        return SimpleNamespace(path=f"/spool/{linkedid}.wav", options="b")

    def monitor_started(self, linkedid):
        pass


def run(args, variables=None):
    session, recordings = Session(variables or {}), Recordings()
    request = SimpleNamespace(args=args, channel=CHANNEL, uniqueid="1795443674.7")
    record.make_handler(recordings, trunk_of=lambda channel: "pstn")(session, request)
    return session, recordings


def test_inbound_facts_come_as_arguments_and_nothing_is_asked():
    session, recordings = run(["inbound", "1795443674.1", v.QUEUE_CONTEXT, "sales", ""])
    assert session.asked == []
    assert recordings.started == [("1795443674.1", "inbound", CHANNEL, {"trunk": "pstn", "queue": "sales"})]
    assert session.ran == [("MixMonitor", "/spool/1795443674.1.wav", "b")]
    assert session.variables[v.RECORDING] == "recording"


def test_after_one_agent_first_the_queue_is_the_one_after():
    session, recordings = run(["inbound", "1795443674.1", v.AGENT_FIRST_CONTEXT, "2001", "sales"])
    assert recordings.started[0][3]["queue"] == "sales" and session.asked == []


def test_without_arguments_the_channel_is_asked_with_the_same_outcome():
    session, recordings = run(["inbound"], {"${CHANNEL(linkedid)}": "1795443674.1", v.DEST_CONTEXT: v.QUEUE_CONTEXT,
                                            v.DEST_EXTEN: "sales"})
    assert "${CHANNEL(linkedid)}" in session.asked and v.DEST_CONTEXT in session.asked
    assert recordings.started == [("1795443674.1", "inbound", CHANNEL, {"trunk": "pstn", "queue": "sales"})]


def test_a_call_routed_to_the_fallback_or_a_fax_is_not_recorded():
    for context in (v.FALLBACK_CONTEXT, v.FAX_CONTEXT):
        session, recordings = run(["inbound", "1795443674.1", context, "no-route", ""])
        assert recordings.started == [] and session.ran == []


def test_outbound_takes_the_agent_from_its_arguments():
    session, recordings = run(["outbound", "1795443674.9", "2001"])
    assert session.asked == []
    assert recordings.started == [("1795443674.9", "outbound", CHANNEL, {"agent": "2001"})]


def test_the_dialplan_passes_every_stage_its_facts():
    text = render(model())
    assert f"record,inbound,${{CHANNEL(linkedid)}},${{{v.DEST_CONTEXT}}},${{{v.DEST_EXTEN}}},${{{v.THEN_QUEUE}}})" in text
    assert f"record,outbound,${{CHANNEL(linkedid)}},${{{v.AGENT}}})" in text
    assert "record,connect,${CHANNEL(linkedid)})" in text
