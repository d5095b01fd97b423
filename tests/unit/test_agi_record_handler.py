"""The FastAGI 'record' handler takes the call's facts from its arguments (the dialplan passes
linkedid and the agent): no round trip with Asterisk to ask for them on the call's setup path.
Without arguments it asks the channel, with the same outcome. (An inbound call's recording
starts in the ``route`` script: tests/unit/test_agi_route_handler.py.)"""

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


def test_without_arguments_the_channel_is_asked_with_the_same_outcome():
    session, recordings = run(["outbound"], {"${CHANNEL(linkedid)}": "1795443674.9", v.AGENT: "2001"})
    assert "${CHANNEL(linkedid)}" in session.asked and v.AGENT in session.asked
    assert recordings.started == [("1795443674.9", "outbound", CHANNEL, {"agent": "2001"})]
    assert session.ran == [("MixMonitor", "/spool/1795443674.9.wav", "b")]
    assert session.variables[v.RECORDING] == "recording"


def test_outbound_takes_the_agent_from_its_arguments():
    session, recordings = run(["outbound", "1795443674.9", "2001"])
    assert session.asked == []
    assert recordings.started == [("1795443674.9", "outbound", CHANNEL, {"agent": "2001"})]


def test_the_dialplan_passes_every_stage_its_facts():
    text = render(model())
    assert "record,inbound" not in text  # an inbound call's recording starts in ``route``'s session
    assert "/route,${CHANNEL(linkedid)})" in text
    assert f"record,outbound,${{CHANNEL(linkedid)}},${{{v.AGENT}}})" in text
    assert "record,connect,${CHANNEL(linkedid)})" in text
