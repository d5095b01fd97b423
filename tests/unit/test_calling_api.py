"""Calling permissions through the web API and pages: click-to-dial, transfer, consultation
and fax to a number the caller may not call answer 403 ``call.not_permitted`` (with the
number's class), leave an audit row and send nothing to Asterisk; an allowed call reaches
Asterisk's manager (an in-process AMI server speaking the real wire format); the fax page and
the workspace say it in the user's language; the agent form offers the permission."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
import webtest
from test_ami_client import SECRET, FakeAmi, frame
from test_webui import env, seed_agents, session_for, token_for  # noqa: F401  (env is a fixture)

from appliance.ami.client import AmiClient
from appliance.db import models as m
from appliance.engine.live import LiveState
from appliance.services.compliance import OutboundCheck
from appliance.services.calls import CallControl
from appliance.services.fax import FaxService
from appliance.services.fax_out import FaxSender
from webui.app import make_app


class Manager(FakeAmi):
    """Takes an Originate as Asterisk does (queued: Success)."""

    def _answer(self, conn, f):
        if f.get("Action") == "Originate":
            self.actions.append(f)
            conn.sendall(frame(Response="Success", ActionID=f.get("ActionID"), Message="Originate successfully queued"))
        else:
            super()._answer(conn, f)


@contextlib.contextmanager
def dialling(env, policy):
    """``env``'s web app with call control over ``policy``, its AMI an in-process manager
    (``env.manager.actions``: what Asterisk was asked)."""
    manager = Manager().start()
    ami = AmiClient("127.0.0.1", manager.port, "appliance", SECRET, on_event=lambda e: None)
    ami.start()
    assert ami.wait_connected(5)
    env.deps.calls = CallControl(ami, LiveState(), calling=policy)
    seed_agents(env.deps.config)  # agent 1001 (alice, with a phone), 1002 (bob)
    env.app = webtest.TestApp(make_app(env.deps))
    env.manager = manager
    try:
        yield env
    finally:
        ami.stop()
        manager.stop()


@pytest.fixture
def office(env, tmp_path):  # noqa: F811
    policy = OutboundCheck(env.db, default_window="")  # China; the office's area code not set; every outbound rule
    env.deps.faxes = FaxService(env.db, tmp_path / "spool-in", "/y", tmp_path / "store")
    env.deps.fax_sender = FaxSender(env.db, None, spool_dir=tmp_path / "spool", asterisk_spool="/x",
                                    store_dir=tmp_path / "store", calling=policy)
    with dialling(env, policy):
        yield env


def originated(env):
    return [f for f in env.manager.actions if f.get("Action") == "Originate"]


def refused():
    return [(r.username, r.object_type, r.object_id, json.loads(r.detail)) for r in
            m.AuditLog.select().where(m.AuditLog.action == "refused").order_by(m.AuditLog.id)]


def test_click_to_dial_abroad_is_refused_with_403_and_audited_and_a_mobile_goes_out(office):
    alice = token_for(office, "alice")
    res = office.app.post_json("/api/v1/agents/1001/dial", {"number": "00 1 212 555 1234"}, headers=alice,
                               status=403)
    assert res.json["error"] == "call.not_permitted" and res.json["params"] == {"number_class": "international"}
    assert not originated(office)  # Asterisk was never asked
    assert refused() == [("alice", "call", "0012125551234", {"rule": "permission",
        "path": "dial", "whose": "agent 1001", "permission": "domestic", "number_class": "international",
        "why": "country code 1 (US)"})]
    ok = office.app.post_json("/api/v1/agents/1001/dial", {"number": "139 1234 5678"}, headers=alice)
    assert ok.json["number"] == "13912345678"
    [action] = originated(office)
    assert (action.get("Channel"), action.get("Context"), action.get("Exten")) == ("PJSIP/1001", "cc-outbound",
                                                                                  "13912345678")
    # a supervisor clicking for Alice is held to Alice's permission: it is her line
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "+85221234567"}, headers=token_for(office, "sup"),
                         status=403)
    assert refused()[-1][0] == "sup" and len(originated(office)) == 1
    # an admin gives Alice international calls on her agent's form of the API
    office.app.patch_json("/api/v1/agents/1001", {"call_permission": "international"},
                          headers=token_for(office, "admin"))
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "+85221234567"}, headers=alice)
    assert originated(office)[-1].get("Exten") == "+85221234567"
    # ...but never a premium-rate line, and emergency numbers always
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "16812345"}, headers=alice, status=403)
    office.app.post_json("/api/v1/agents/1001/dial", {"number": "110"}, headers=alice)
    assert [a.get("Exten") for a in originated(office)] == ["13912345678", "+85221234567", "110"]


@pytest.mark.parametrize("method", ["transfer", "consult"])
def test_a_transfer_or_consultation_to_a_number_abroad_is_refused_and_audited(office, method):
    alice = token_for(office, "alice")
    res = office.app.post_json(f"/api/v1/agents/1001/{method}", {"to_kind": "number", "to": "+442071234567"},
                               headers=alice, status=403)
    assert res.json["error"] == "call.not_permitted" and res.json["params"]["number_class"] == "international"
    assert [(r[2], r[3]["path"]) for r in refused()] == [("+442071234567", method)]
    assert not [f for f in office.manager.actions if f.get("Action") in ("Redirect", "Setvar")]
    # allowed: on to the call itself (Alice has none just now)
    res = office.app.post_json(f"/api/v1/agents/1001/{method}", {"to_kind": "number", "to": "01062345678"},
                               headers=alice, status=409)
    assert res.json["error"] in ("transfer.no_call", "consult.no_call") and len(refused()) == 1


def test_a_fax_abroad_is_refused_on_the_api_and_on_the_page_in_the_users_language(office):
    pdf = b"%PDF-1.4 never rendered"
    res = office.app.post("/api/v1/faxes", {"number": "0085221234567"}, headers=token_for(office, "alice"),
                          upload_files=[("file", "offer.pdf", pdf)], status=403)
    assert res.json["error"] == "call.not_permitted" and res.json["params"] == {"number_class": "international"}
    assert not m.Fax.select().exists()
    office.users.set_language(office.ids["alice"], "zh_CN")
    cookie, csrf = session_for(office, "alice")
    page = office.app.post("/faxes", {"number": "+85221234567", "csrf_token": csrf}, headers=cookie,
                           upload_files=[("file", "offer.pdf", pdf)], status=403)
    assert "此线路无权拨打国际长途号码" in page.text
    assert [(r[0], r[3]["path"], r[3]["whose"]) for r in refused()] == [("alice", "fax", "user alice")] * 2
    assert not m.Fax.select().exists()


def test_the_workspace_can_say_a_refusal_and_the_agent_form_offers_the_permission(office):
    cookie, _ = session_for(office, "alice")
    page = office.app.get("/workspace", headers=cookie)
    messages = json.loads(re.search(r'<script[^>]*id="i18n"[^>]*>(.*?)</script>', page.text, re.S).group(1))
    assert messages["ws.error.call.not_permitted"].startswith("This line may not call {number_class}")
    assert messages["ws.param.number_class.international"] == "international"
    office.users.set_language(office.ids["admin"], "zh_CN")
    cookie, _ = session_for(office, "admin")
    form = office.app.get("/admin/agents/1001", headers=cookie)
    select = re.search(r'<select id="f-call_permission" name="call_permission">(.*?)</select>', form.text, re.S)
    options = re.findall(r'<option value="(\w+)" ?(selected)?>([^<]+)</option>', select.group(1))
    assert [(value, label) for value, _, label in options] == [
        ("role", "按角色"), ("internal", "仅内部分机"), ("local", "至本地"), ("mobile", "至手机"),
        ("domestic", "至国内长途"), ("international", "至国际"), ("premium", "不限（含特服付费号码）")]
    assert [value for value, chosen, _ in options if chosen] == ["role"]
    assert "呼出权限" in form.text
