"""The FastAGI 'route' handler turns the pure decision into channel variables, and starts the
call's recording in the same session (one FastAGI connection on an inbound call's setup path)."""

from __future__ import annotations

from types import SimpleNamespace

from appliance import dialplan_vars as v
from appliance.agi.handlers import route
from appliance.agi.session import AgiCommandError
from appliance.engine.routing import DidRoute, RoutingTable, StickyRule


class Session:
    """The channel as the handler sees it: its variables, and every command sent, in order."""

    def __init__(self, fail_app=None):
        self.variables, self.sent, self.fail_app = {}, [], fail_app

    def set_variable(self, name, value):
        self.variables[name] = value
        self.sent.append(("SET VARIABLE", name))

    def set_variables(self, variables):
        self.variables.update(variables)
        self.sent.append(("MSet", *variables))

    def exec_app(self, app, *args):
        if app == self.fail_app:
            raise AgiCommandError(f"EXEC: no application {app!r}", None, code="agi.no_such_app")
        self.sent.append((app, *args))


class Recordings:
    """What the recording service is asked (its own tests are test_recording_*)."""

    def __init__(self, fail=False):
        self.started, self.monitors, self.active, self.fail = [], [], {}, fail

    def call_started(self, linkedid, direction, channel, **facts):
        if self.fail:
            raise RuntimeError("the database is gone")
        self.started.append((linkedid, direction, channel, facts))
        self.active[linkedid] = SimpleNamespace(state="recording")
        return SimpleNamespace(path=f"/spool/{linkedid}.wav", options="b")

    def monitor_started(self, linkedid):
        self.monitors.append(linkedid)


def request(extension, callerid="13912345678", linkedid="1795443674.1"):
    return SimpleNamespace(extension=extension, dnid=extension, callerid=callerid, channel="PJSIP/trunk-pstn-1",
                           args=[linkedid], uniqueid="1795443674.7")


def test_routes_known_did_to_queue():
    handler = route.make_handler(lambda: RoutingTable(dids={"88001000": DidRoute("sales")}))
    session = Session()
    handler(session, request("88001000"))
    assert session.variables == {v.DEST_CONTEXT: "cc-queue", v.DEST_EXTEN: "sales", v.ROUTE_RULE: "did"}


def test_unknown_did_goes_to_fallback_with_reason():
    handler = route.make_handler(lambda: RoutingTable())
    session = Session()
    handler(session, request("99999999"))
    assert session.variables == {v.FALLBACK_REASON: "no-route", v.DEST_CONTEXT: "cc-fallback", v.DEST_EXTEN: "no-route",
                                 v.ROUTE_RULE: "did"}


def test_sticky_queue_offers_the_last_agent_first():
    table = RoutingTable(dids={"88001000": DidRoute("sales")}, sticky={"sales": StickyRule(7, 30, 12)})
    asked = []

    def last_agent(caller, rule, now):
        asked.append((caller, rule.lookback_days))
        return "1002" if caller == "13912345678" else None

    handler = route.make_handler(lambda: table, last_agent)
    session = Session()
    handler(session, request("88001000"))
    assert session.variables == {v.DEST_CONTEXT: "cc-agent-first", v.DEST_EXTEN: "1002", v.ROUTE_RULE: "sticky",
                                 v.THEN_QUEUE: "sales", v.FIRST_TIMEOUT: "12"}
    assert asked == [("13912345678", 7)]
    session = Session()
    handler(session, request("88001000", callerid="13700000000"))  # a new caller: the queue as usual
    assert session.variables[v.DEST_CONTEXT] == "cc-queue"


def test_queue_without_sticky_never_looks_up_history():
    def last_agent(*_):
        raise AssertionError("looked up")

    handler = route.make_handler(lambda: RoutingTable(dids={"88001000": DidRoute("sales")}), last_agent)
    session = Session()
    handler(session, request("88001000"))
    assert session.variables[v.DEST_EXTEN] == "sales"


def test_reads_the_current_table_on_every_call():
    tables = [RoutingTable()]
    handler = route.make_handler(lambda: tables[-1])
    tables.append(RoutingTable(dids={"1": DidRoute("q")}))
    session = Session()
    handler(session, request("1"))
    assert session.variables[v.DEST_EXTEN] == "q"


def test_every_decision_context_is_one_the_dialplan_generates():
    from appliance.confgen import extensions
    from appliance.confgen.model import AmiUser, AsteriskModel, Network, Paths, Queue

    model = AsteriskModel(paths=Paths("/e", "/r", "/l", "/s", "/b"), network=Network(), ami=AmiUser("a", "b"),
                          queues=(Queue("sales"),))
    text = extensions.render(model)
    assert f"[{v.QUEUE_CONTEXT}]" in text and "exten => sales,1" in text
    static = (route.__file__.rsplit("/appliance/", 1)[0] + "/rootfs/etc/asterisk/extensions.conf")
    static_text = open(static).read()
    assert f"[{v.FALLBACK_CONTEXT}]" in static_text
    assert "exten => _[a-z].,1" in static_text  # catches no-route, agi-failed, queue, ...


def test_account_manager_comes_before_sticky_and_only_for_queue_routes():
    table = RoutingTable(dids={"88001000": DidRoute("sales")}, sticky={"sales": StickyRule(7, 30, 12)},
                         blacklist=frozenset({"13900000666"}))
    handler = route.make_handler(lambda: table, lambda *_: "1003",
                                 lambda caller: "1002" if caller in ("13912345678", "13900000666") else None)
    session = Session()
    handler(session, request("88001000"))
    assert session.variables == {v.DEST_CONTEXT: "cc-vip", v.DEST_EXTEN: "1002", v.ROUTE_RULE: "vip",
                                 v.THEN_QUEUE: "sales", v.FIRST_TIMEOUT: str(v.VIP_RING_SECONDS)}
    session = Session()
    handler(session, request("88001000", callerid="13700000000"))  # not a customer: sticky applies
    assert session.variables[v.ROUTE_RULE] == "sticky"
    session = Session()
    handler(session, request("88001000", callerid="13900000666"))  # a blocked customer stays blocked
    assert session.variables[v.ROUTE_RULE] == "blacklist"


def recorded(table, recordings, session=None, **given):
    handler = route.make_handler(lambda: table, recordings=recordings, trunk_of=lambda channel: "pstn", **given)
    session = session or Session()
    handler(session, request("88001000"))
    return session


def test_the_recording_starts_in_the_same_session_after_the_variables():
    recordings = Recordings()
    session = recorded(RoutingTable(dids={"88001000": DidRoute("sales")}), recordings)
    assert recordings.started == [("1795443674.1", "inbound", "PJSIP/trunk-pstn-1", {"trunk": "pstn", "queue": "sales"})]
    # one MSet with where to go and what the recording is, then MixMonitor, nothing else
    assert [sent[0] for sent in session.sent] == ["MSet", "MixMonitor"]
    assert v.RECORDING in session.sent[0] and v.DEST_CONTEXT in session.sent[0]
    assert session.sent[1] == ("MixMonitor", "/spool/1795443674.1.wav", "b")
    assert session.variables[v.RECORDING] == "recording" and session.variables[v.DEST_EXTEN] == "sales"
    assert recordings.monitors == ["1795443674.1"]


def test_the_recording_is_the_queue_after_one_agent_first_or_after_the_pin():
    recordings = Recordings()
    recorded(RoutingTable(dids={"88001000": DidRoute("sales")}, sticky={"sales": StickyRule(7, 30, 12)}), recordings,
             last_agent=lambda *_: "1002")
    recorded(RoutingTable(dids={"88001000": DidRoute("support", require_pin=True)}), recordings)
    assert [facts["queue"] for *_, facts in recordings.started] == ["sales", "support"]


def test_a_call_to_the_fallback_or_a_fax_is_not_recorded():
    recordings = Recordings()
    session = recorded(RoutingTable(), recordings)  # no route: the fallback
    assert recordings.started == [] and [s[0] for s in session.sent] == ["MSet"]
    assert session.variables[v.RECORDING] == "off"


def test_a_recording_that_cannot_start_never_keeps_the_caller_from_the_queue():
    table = RoutingTable(dids={"88001000": DidRoute("sales")})
    session = recorded(table, Recordings(fail=True))  # the decision failed
    assert session.variables[v.DEST_EXTEN] == "sales" and v.RECORDING not in session.variables
    recordings = Recordings()
    session = recorded(table, recordings, Session(fail_app="MixMonitor"))  # Asterisk refused MixMonitor
    assert session.variables[v.DEST_EXTEN] == "sales" and recordings.monitors == []
