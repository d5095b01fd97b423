"""The FastAGI 'route' handler turns the pure decision into channel variables."""

from __future__ import annotations

from types import SimpleNamespace

from appliance import dialplan_vars as v
from appliance.agi.handlers import route
from appliance.engine.routing import DidRoute, RoutingTable, StickyRule


class Session:
    def __init__(self):
        self.variables = {}

    def set_variable(self, name, value):
        self.variables[name] = value

    def set_variables(self, variables):
        self.variables.update(variables)


def request(extension, callerid="13912345678"):
    return SimpleNamespace(extension=extension, dnid=extension, callerid=callerid, channel="PJSIP/trunk-pstn-1")


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
