"""Analog phones on FXS ports and outside calls over the card (issue 21 points 2 and 3).

An FXS port is a phone of kind fxs in the database (the installer's former JSON file read in
once), its chan_dahdi block generated from it, dialled and made a queue member as
``DAHDI/<port>``, known by its port for feature codes, its port's state shown (busy, not on
the card); the outbound route mixes SIP trunks and card routes in the admin's order with
failover and the card's capacity counted by compliance; a PRI span's called number routes
like a SIP DID.  Fixture trees from real cards: tests/fixtures/dahdi (analog_fxs_fxo: FXS
ports 1-4, FXO lines 5-8; e1_pri_ok: two E1 spans)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance import dialplan_vars as v
from appliance.agi.handlers import agent as agent_codes
from appliance.agi.handlers import route
from appliance.confgen import extensions
from appliance.confgen.dahdi import EXTENSIONS_FILE, apply_dahdi
from appliance.confgen.from_db import build_model, routing_table
from appliance.confgen.model import AmiUser, Network, Paths
from appliance.db import models as m
from appliance.engine import registrations as reg
from appliance.engine.live import trunk_of
from appliance.errors import CallRefused, Conflict, ValidationError
from appliance.services import fxs
from appliance.services.agents import AgentService
from appliance.services.compliance import OutboundCheck
from appliance.services.config import ConfigService
from hwdrivers.dahdi_conf import DahdiSettings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"
PATHS, NET, AMI = Paths("/e", "/r", "/l", "/s", "/b"), Network(), AmiUser("a", "s")


@pytest.fixture
def cfg(db):
    return ConfigService(db)


def card(fixture, tmp_path, **more):
    """Apply DAHDI for a fixture card with the phones in the database, as the appliance does."""
    extensions_, names = fxs.dahdi_phones()
    result = apply_dahdi(FIXTURES / fixture, tmp_path / "system.conf", tmp_path / "generated",
                         extensions=extensions_, names=names, settings=DahdiSettings(), dahdi_cfg=None, **more)
    return result, fxs.CardFacts.of(result)


def dialplan(facts):
    return extensions.render(build_model(PATHS, NET, AMI, dahdi=True, card=facts))


def context(text, name):
    return text.split(f"[{name}]", 1)[1].split("\n[", 1)[0]


# -- 1. FXS ports are phones -------------------------------------------------------------------
def test_an_analog_phone_needs_its_port_not_a_password_and_a_port_is_one_phones(cfg):
    cfg.create("phones", {"extension": "8001", "kind": "fxs", "dahdi_channel": 1, "callerid_name": "Front desk"},
               actor="t")
    assert {k: cfg.get("phones", "8001")[k] for k in ("kind", "dahdi_channel", "has_secret")} == \
        {"kind": "fxs", "dahdi_channel": 1, "has_secret": False}
    with pytest.raises(ValidationError) as no_port:
        cfg.create("phones", {"extension": "8002", "kind": "fxs"}, actor="t")
    assert no_port.value.fields["dahdi_channel"].msgid == "fxs.port_required"
    with pytest.raises(ValidationError) as taken:
        cfg.create("phones", {"extension": "8002", "kind": "fxs", "dahdi_channel": 1}, actor="t")
    assert (taken.value.fields["dahdi_channel"].msgid, taken.value.fields["dahdi_channel"].params) == \
        ("fxs.port_taken", {"port": 1})
    with pytest.raises(ValidationError) as sip:  # a SIP phone still needs its password, and has no port
        cfg.create("phones", {"extension": "1001", "dahdi_channel": 2}, actor="t")
    assert set(sip.value.fields) == {"secret", "dahdi_channel"}
    with pytest.raises(ValidationError) as quoted:  # chan_dahdi.conf would refuse it, and every port with it
        cfg.create("phones", {"extension": "8003", "kind": "fxs", "dahdi_channel": 3, "callerid_name": 'Li "Boss"'},
                   actor="t")
    assert quoted.value.fields["callerid_name"].msgid == "fxs.name_chars"
    assert not m.Phone.select().where(m.Phone.extension.in_(("8002", "8003", "1001"))).exists()  # none half-saved


def test_the_installers_file_is_read_into_phones_once_then_ignored(db, cfg, tmp_path):
    cfg.create("phones", {"extension": "8003", "secret": "sip-secret-1"}, actor="t")
    legacy = tmp_path / EXTENSIONS_FILE
    legacy.write_text(json.dumps({"1": "8001", "2": "8002", "3": "8003", "4": "x"}))
    assert fxs.import_legacy_file(legacy, db) == 2  # 8003 is a SIP phone's already; "x" is no extension
    assert not legacy.exists() and (tmp_path / (EXTENSIONS_FILE + ".imported")).exists()
    assert fxs.dahdi_phones()[0] == {1: "8001", 2: "8002"}
    assert m.AuditLog.select().where(m.AuditLog.object_type == "phones", m.AuditLog.username == "system").count() == 2
    legacy.write_text(json.dumps({"4": "8004"}))  # a file put back is read again, once
    assert fxs.import_legacy_file(legacy, db) == 1
    assert fxs.import_legacy_file(legacy, db) == 0  # gone: nothing to read


def test_chan_dahdi_gives_each_port_its_phone_and_a_port_the_card_lacks_is_shown_not_written(cfg, tmp_path):
    cfg.create("phones", {"extension": "8001", "kind": "fxs", "dahdi_channel": 1, "callerid_name": "Li Lei"},
               actor="t")
    cfg.create("phones", {"extension": "8009", "kind": "fxs", "dahdi_channel": 9}, actor="t")  # FXO line 9? no: none
    result, facts = card("analog_fxs_fxo", tmp_path)
    chan = (tmp_path / "generated" / "chan_dahdi.conf").read_text()
    block = chan.split("; FXS port for agent extension 8001", 1)[1].split("channel => 1", 1)[0]
    assert "signalling = fxo_ks" in block and 'callerid = "Li Lei" <8001>' in block
    assert "context = cc-from-phone" in block
    assert "8009" not in chan and "fxoks=1\n" in (tmp_path / "system.conf").read_text()
    assert (result.agent_ports, facts.fxs_channels, facts.fxo_channels) == (1, (1, 2, 3, 4), (5, 6, 7, 8))
    assert fxs.port_states(facts) == ({1: "8001"}, {"8009"})
    plan = context(dialplan(facts), v.PHONE_CONTEXT)
    assert "exten => 8001,1,AGI" in plan and " same => n,Dial(DAHDI/1,30)" in plan
    # the phone whose port is gone: "not in service", never out through the trunks as a number
    assert "exten => 8009,1,Goto(cc-fallback,port-missing,1)" in plan and "DAHDI/9" not in plan


def test_an_analog_agent_is_a_queue_member_on_its_port_and_signs_in_with_the_feature_codes(cfg):
    cfg.create("phones", {"extension": "8001", "kind": "fxs", "dahdi_channel": 3}, actor="t")
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("agents", {"number": "2001", "name": "Han Meimei", "phone": "8001"}, actor="t")
    cfg.add_member("sales", "2001", 0, actor="t")
    sent = []
    ami = SimpleNamespace(connected=True, send_action=lambda name, headers: sent.append((name, headers)) or
                          SimpleNamespace(name="Success", get=lambda key, default=None: default))
    agents = AgentService(None, ami)
    handler = agent_codes.make_handler(agents)
    session = SimpleNamespace(variables={})
    session.set_variable = session.variables.__setitem__
    session.set_variables = session.variables.update
    # *21 from the port: the phone is the one on port 3, whatever caller ID the line shows
    agent_codes_request = SimpleNamespace(args=["login"], channel="DAHDI/3-1", callerid="")
    handler(session, agent_codes_request)
    assert session.variables[v.RESULT] == "ok"
    adds = [h for name, h in sent if name == "QueueAdd"]
    assert {(h["Queue"], h["Interface"], h["StateInterface"]) for h in adds} == {
        ("sales", "DAHDI/3", "DAHDI/3"), (v.personal_queue("2001"), "DAHDI/3", "DAHDI/3")}
    # *25: long sign-in from the analog phone (app_agent_pool: the member is the pool's Local channel)
    handler(session, SimpleNamespace(args=["long"], channel="DAHDI/3-2", callerid="13912345678"))
    assert (session.variables[v.RESULT], session.variables[v.AGENT]) == ("ok", "2001")
    assert sent[-2][1]["Interface"] == f"Local/2001@{v.AGENT_POOL_CONTEXT}/n"
    with pytest.raises(ValidationError) as rung:  # the appliance cannot ring an analog phone into long sign-in
        agents.call_for_long_signin("2001")
    assert rung.value.code == "agent.long_signin_from_phone"
    handler(session, SimpleNamespace(args=["login"], channel="DAHDI/4-1", callerid="8001"))  # another port
    assert session.variables[v.RESULT] == "agent.no_agent_at_phone"


def test_click_to_dial_and_listening_in_ring_the_analog_port(cfg):
    from appliance.engine.live import IN_CALL
    from appliance.services.calls import CallControl

    cfg.create("phones", {"extension": "8001", "kind": "fxs", "dahdi_channel": 3}, actor="t")
    cfg.create("phones", {"extension": "8002", "kind": "fxs", "dahdi_channel": 4}, actor="t")
    cfg.create("agents", {"number": "2001", "name": "Han Meimei", "phone": "8001"}, actor="t")
    sent = []
    ami = SimpleNamespace(connected=True, send_action=lambda name, headers: sent.append((name, headers)) or
                          SimpleNamespace(name="Success", get=lambda key, default=None: default))
    live = SimpleNamespace(agents={"2001": SimpleNamespace(state=IN_CALL, interface="DAHDI/3")}, calls={})
    calls = CallControl(ami, live, calling=SimpleNamespace(check_agent=lambda *a, **k: SimpleNamespace()))
    calls.dial("2001", "13912345678", "alice")
    assert (sent[-1][0], sent[-1][1]["Channel"]) == ("Originate", "DAHDI/3")
    calls.spy("2001", "8002", "listen", "sam")  # a supervisor at an analog phone listens in
    assert (sent[-1][1]["Channel"], sent[-1][1]["Data"]) == ("DAHDI/4", "DAHDI/3-,qE")
    with pytest.raises(ValidationError):  # not on the agent's own port
        calls.spy("2001", "8001", "listen", "sam")


def test_a_ports_state_follows_its_device_and_the_card(cfg):
    state = reg.Registrations()
    published = state.set_ports({1: "8001", 2: "8002"}, missing={"8009"})
    assert {(p.data["key"], p.data["state"]) for p in published} == {
        ("8001", reg.PORT_IDLE), ("8002", reg.PORT_IDLE), ("8009", reg.PORT_MISSING)}
    busy = state.apply({"Event": "DeviceStateChange", "Device": "DAHDI/1", "State": "INUSE"})
    assert [p.data for p in busy] == [{"kind": "phones", "key": "8001", "state": reg.PORT_BUSY}]
    assert state.apply({"Event": "DeviceStateChange", "Device": "DAHDI/1", "State": "INUSE"}) == []
    assert state.apply({"Event": "DeviceStateChange", "Device": "DAHDI/7", "State": "INUSE"}) == []  # an FXO line
    state.connected([], {}, busy_ports=reg.parse_busy_ports(
        "DAHDI/2-1!cc-from-phone!s!1!Up!Wait!1!!!!3!12!(None)!1733400000.12\n"
        "PJSIP/1001-00000001!cc-queue!sales!3!Up!Queue!sales!!!!3!12!(None)!1733400000.13\n"))
    assert state.snapshot()["phones"] == {"8001": reg.PORT_IDLE, "8002": reg.PORT_BUSY, "8009": reg.PORT_MISSING}


def test_the_phones_page_shows_the_ports_state_in_both_languages(cfg):
    from webui.areas.registrations import state_of, word_key
    from appliance import i18n

    row = {"extension": "8009", "kind": "fxs"}
    assert state_of("phones", row, {"known": False, "phones": {"8009": "port_missing"}, "trunks": {}}) == \
        "port_missing"  # known without the engine
    assert state_of("phones", row, {"known": True, "phones": {}, "trunks": {}}) == "port_missing"
    assert state_of("phones", {"extension": "1001", "kind": "sip"}, {"known": True, "phones": {}, "trunks": {}}) \
        == "unregistered"
    assert (i18n.translate("en", word_key("port_busy")), i18n.translate("zh_CN", word_key("port_busy"))) == \
        ("Port busy", "端口占用")


# -- 2. outside calls over the card ------------------------------------------------------------
def dial_lines(plan):
    return [line for line in context(plan, v.OUTBOUND_CONTEXT).splitlines() if "Dial(" in line]


def test_the_outbound_route_dials_trunks_and_card_routes_in_the_admins_order(cfg, tmp_path):
    cfg.create("trunks", {"name": "carrier", "host": "127.0.0.2", "outbound_priority": 2}, actor="t")
    cfg.create("card_routes", {"name": "lines", "line": "fxo", "outbound_priority": 3}, actor="t")
    cfg.create("card_routes", {"display_name": "China Telecom E1", "line": "pri", "span": 1, "outbound_priority": 1},
               actor="t")
    cfg.create("card_routes", {"name": "span9", "line": "pri", "span": 9, "outbound_priority": 1}, actor="t")
    _, e1 = card("e1_pri_ok", tmp_path)
    assert dial_lines(dialplan(e1)) == [  # span 9 and the FXO lines are not on this card: left out
        " same => n(card-china-telecom-e1-dial),Dial(DAHDI/g11/${EXTEN},60)",
        " same => n(trunk-carrier),Dial(PJSIP/${EXTEN}@trunk-carrier,60)"]
    plan = context(dialplan(e1), v.OUTBOUND_CONTEXT)
    # full (its 30 B-channels up, in or out): skipped as unavailable, the next route tried
    assert " same => n(card-china-telecom-e1),Set(CC_TRUNK_CALLS=${CHANNELS(^DAHDI/i1/)})" in plan
    assert " same => n,GotoIf($[${FIELDQTY(CC_TRUNK_CALLS,\\x20)} < 30]?card-china-telecom-e1-dial)" in plan
    # no channel free in the group (chan_dahdi's BUSY without a channel of its own): the next route
    assert (' same => n,GotoIf($["${DIALSTATUS}" = "BUSY" & ${REGEX("DAHDI/i1/" ${HANGUPCAUSE_KEYS()})} = 0]'
            '?trunk-carrier)') in plan
    _, analog = card("analog_fxs_fxo", tmp_path / "analog")
    assert dial_lines(dialplan(analog)) == [
        " same => n(trunk-carrier),Dial(PJSIP/${EXTEN}@trunk-carrier,60)",
        " same => n(card-lines-dial),Dial(DAHDI/g1/${EXTEN},60)"]
    assert "${CHANNELS(^DAHDI/(5|6|7|8)-)}" in dialplan(analog)
    assert "func_hangupcause.so" in __import__("appliance.confgen.modules", fromlist=["x"]).render(
        build_model(PATHS, NET, AMI, dahdi=True, card=analog))
    route_names = [r["name"] for r in fxs.outbound_route(e1)]
    assert route_names == ["china-telecom-e1", "span9", "carrier", "lines"]
    assert [r["on_card"] for r in fxs.outbound_route(e1)] == [True, False, True, False]


def test_card_routes_and_trunks_do_not_share_names_or_lines(cfg):
    cfg.create("trunks", {"name": "carrier", "host": "127.0.0.2"}, actor="t")
    cfg.create("card_routes", {"name": "span1", "line": "pri", "span": 1}, actor="t")
    with pytest.raises(Conflict):
        cfg.create("card_routes", {"name": "carrier", "line": "fxo"}, actor="t")
    with pytest.raises(Conflict):
        cfg.create("trunks", {"name": "span1", "host": "127.0.0.3"}, actor="t")
    with pytest.raises(Conflict):
        cfg.create("card_routes", {"name": "again", "line": "pri", "span": 1}, actor="t")
    with pytest.raises(ValidationError) as no_span:
        cfg.create("card_routes", {"name": "nospan", "line": "pri"}, actor="t")
    assert no_span.value.fields["span"].msgid == "fxs.span_required"


def test_compliance_counts_a_spans_b_channels_as_its_capacity(db, cfg, tmp_path):
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="t")
    cfg.create("card_routes", {"name": "span1", "line": "pri", "span": 1}, actor="t")
    _, e1 = card("e1_pri_ok", tmp_path)
    routes = fxs.channel_routes(e1)
    assert routes == {"i1": "span1"}
    assert trunk_of("DAHDI/i1/02162345678-1f", routes) == "span1" and trunk_of("DAHDI/i2/1-1", routes) == ""
    calls = {str(i): SimpleNamespace(trunk=trunk_of(f"DAHDI/i1/1390000{i:04d}-{i}", routes), state="talking")
             for i in range(30)}
    office_noon = lambda: dt.datetime(2026, 12, 7, 4, 0)  # noqa: E731
    check = OutboundCheck(db, None, SimpleNamespace(calls=calls), now=office_noon, card=lambda: e1)
    with pytest.raises(CallRefused) as full:
        check.check_agent("1001", "13912345678", "dial", "alice")
    assert (full.value.code, str(full.value.params["lines"])) == ("compliance.trunks_full", "30")
    calls["0"].state = "ended"
    assert check.check_agent("1001", "13912345678", "dial", "alice").allowed


# -- 3. inbound DIDs on a span -----------------------------------------------------------------
def test_a_spans_called_number_routes_like_a_sip_did(cfg, tmp_path):
    cfg.create("queues", {"name": "sales"}, actor="t")
    cfg.create("dids", {"number": "62345678", "queue": "sales"}, actor="t")
    chan = (card("e1_pri_ok", tmp_path)[0], (tmp_path / "generated" / "chan_dahdi.conf").read_text())[1]
    span1 = chan.split("; span 1:", 1)[1].split("channel =>", 1)[0]
    assert "context = cc-from-trunk" in span1 and "group = 11" in span1 and "signalling = pri_cpe" in span1
    assert "group = 12" in chan.split("; span 2:", 1)[1]
    inbound = context(dialplan(fxs.CardFacts()), v.TRUNK_CONTEXT)
    assert "exten => s,1,Goto(cc-fallback,no-route,1)" in inbound  # a span that sends no called number
    assert re.search(r"exten => _\[\+0-9\]\.,1,.*\n same => n,Set\(__CC_DID=\$\{EXTEN\}\)\n same => n,AGI\(agi://"
                     r"[^)]*/route,\$\{CHANNEL\(linkedid\)\}\)", inbound)
    session = SimpleNamespace(variables={})
    session.set_variable = session.variables.__setitem__
    session.set_variables = session.variables.update
    handler = route.make_handler(routing_table)
    for called, to in (("62345678", ("cc-queue", "sales")), ("62345679", ("cc-fallback", "no-route"))):
        session.variables.clear()
        handler(session, SimpleNamespace(extension=called, dnid=called, callerid="13912345678",
                                         channel="DAHDI/i1/13912345678-5"))
        assert (session.variables[v.DEST_CONTEXT], session.variables[v.DEST_EXTEN]) == to, called


def test_the_appliance_reads_the_former_file_once_and_wires_the_card_through(tmp_path):
    """Wiring (appliance/main.py): at the DAHDI apply the former file becomes phones, chan_dahdi
    and the dialplan carry them, the registrations engine follows their ports, the live state
    names a span's calls, the web pages read the card."""
    from appliance import settings
    from appliance.main import Appliance
    from provisioning import firstboot

    s = settings.load(None, {"data_dir": str(tmp_path), "hardware_root": str(FIXTURES / "analog_fxs_fxo")})
    firstboot.run(s)
    s.dahdi_dir.mkdir(parents=True, exist_ok=True)
    (s.dahdi_dir / EXTENSIONS_FILE).write_text(json.dumps({"2": "8002", "12": "8012"}))
    box = Appliance(s)
    assert box.configure_dahdi().agent_ports == 1
    assert not (s.dahdi_dir / EXTENSIONS_FILE).exists()
    assert {p.extension: (p.kind, p.dahdi_channel) for p in m.Phone.select()} == {"8002": ("fxs", 2),
                                                                                "8012": ("fxs", 12)}
    assert "<8002>" in (box.pbx.generated_dir / "chan_dahdi.conf").read_text()
    assert [(p.extension, p.channel, p.on_card) for p in box.model().fxs_phones] == [("8002", 2, True),
                                                                                    ("8012", 12, False)]
    assert box.registrations.snapshot()["phones"] == {"8002": reg.PORT_IDLE, "8012": reg.PORT_MISSING}
    box.config.create("card_routes", {"name": "lines", "line": "fxo"}, actor="t")  # applied: routes re-read
    assert box.live.trunk_of("DAHDI/6-1") == "lines" and box.live.trunk_of("DAHDI/2-1") == ""
    assert box.card_facts().capacity("fxo") == 4

