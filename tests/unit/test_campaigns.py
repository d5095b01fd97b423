"""Call lists and preview campaigns (issue 16): the import (row-by-row report, all or nothing
or the good rows, duplicates in the file and in the list, customers linked or created,
even assignment), recycle, the export; the next entry taken race-free, auto-next, skip,
call-backs to the same agent at their time; dialling through click-to-dial and the calling
checks (a refusal recorded on the attempt); the call record and the disposition linked to
the attempt; the figures; who may do what through the API."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import webtest
from openpyxl import load_workbook
from test_ami_client import SECRET
from test_calling_api import Manager, originated
from test_crm_excel import xlsx
from test_webui import env, seed_agents, token_for  # noqa: F401  (env is a fixture)

from appliance.ami.client import AmiClient
from appliance.db import models as m
from appliance.engine.live import LiveState
from appliance.errors import CallNotPermitted, Conflict, PermissionDenied, ValidationError
from appliance.services.calling import CallingPolicy
from appliance.services.calllists import CallLists, split_evenly
from appliance.services.campaigns import Campaigns, result_of
from appliance.services.calls import CallControl
from webui import i18n
from webui.app import make_app

T0 = dt.datetime(2026, 12, 7, 2, 0)  # 10:00 in Shanghai


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def office(env):  # noqa: F811
    """The web app with click-to-dial through an in-process AMI server, the real calling
    policy, agents 1001 (alice) and 1002 (bob) in queue sales, and a clock of our own."""
    manager = Manager().start()
    ami = AmiClient("127.0.0.1", manager.port, "appliance", SECRET, on_event=lambda e: None)
    ami.start()
    assert ami.wait_connected(5)
    seed_agents(env.deps.config)
    cfg = env.deps.config
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="t")
    cfg.update("agents", "1002", {"phone": "1002"}, actor="t")
    cfg.add_member("sales", "1001")
    cfg.add_member("sales", "1002")
    env.deps.calls = CallControl(ami, LiveState(), calling=CallingPolicy(env.db))
    env.clock = Clock()
    env.lists = env.deps.call_lists = CallLists(env.db, env.deps.customer_excel)
    env.campaigns = env.deps.campaigns = Campaigns(env.db, env.deps.calls, env.deps.crm, env.deps.bus,
                                                   zone=lambda: ZoneInfo("Asia/Shanghai"), clock=env.clock)
    env.app = webtest.TestApp(make_app(env.deps))
    env.manager = manager
    yield env
    ami.stop()
    manager.stop()


def sheet_of(env, rows) -> bytes:  # noqa: F811
    """The rows as the upload worker reads them from a workbook."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.xlsx"
        path.write_bytes(xlsx(rows))
        return env.deps.customer_excel.read(path)


def new_list(env, name="spring", **data):  # noqa: F811
    return env.lists.create({"name": name, **data}, "admin")["id"]


def fill(env, list_id, count, **kw):  # noqa: F811
    rows = [["手机", "姓名", "城市"]] + [[f"1391234{i:04d}", f"客户{i}", "上海"] for i in range(count)]
    return env.lists.import_sheet(sheet_of(env, rows), list_id, 0, 1, actor="admin", source="t.xlsx", **kw)[0]


def running(env, list_ids, **data):  # noqa: F811
    c = env.campaigns.create({"name": data.pop("name", "spring"), "queue": "sales", "lists": list_ids, **data}, "admin")
    env.campaigns.set_state(c["id"], "running", "admin")
    return c["id"]


# -- import -------------------------------------------------------------------------------
def test_the_check_reports_every_bad_row_and_nothing_is_imported(office):
    list_id = new_list(office)
    rows = [["电话", "姓名", "备注"], ["139 1234 0001", "张三", "老客户"], ["not a number", "李四", ""],
            [None, None, None], ["+86 139-1234-0001", "张三二", ""], ["13912340002", "王五", "x"]]
    sheet = sheet_of(office, rows)
    report, _ = office.lists.check_sheet(sheet, list_id, *office.lists.propose_columns(["电话", "姓名", "备注"]))
    assert report.rows == 4  # the empty row is no row
    problems = [(e.row, e.column, e.message.msgid) for e in report.errors]
    assert problems == [(3, "电话", "field.phone"), (5, "电话", "field.same_phone")]
    assert i18n.field_error("zh_CN", report.errors[1].message) == i18n.translate("zh_CN", "field.same_phone", n=2)
    with pytest.raises(ValidationError) as exc:
        office.lists.import_sheet(sheet, list_id, 0, 1, actor="admin", source="t")
    assert exc.value.code == "import.has_errors"
    assert m.CallListEntry.select().count() == 0  # all or nothing
    count, report = office.lists.import_sheet(sheet, list_id, 0, 1, actor="admin", source="t", good_only=True)
    assert count == 2 and [r[0] for r in report.rejected] == [3, 5]
    entries = office.lists.entries(list_id)
    assert [(e["number"], e["name"], e["data"]) for e in entries] == [
        ("+8613912340001", "张三", {"备注": "老客户"}), ("+8613912340002", "王五", {"备注": "x"})]
    # the same numbers again, in other forms: already in the list
    again, _ = office.lists.check_sheet(sheet_of(office, [["phone"], ["8613912340002"]]), list_id, 0)
    assert [e.message.msgid for e in again.errors] == ["calllists.field.in_list"]


def test_numbers_are_linked_to_customers_or_become_customers_as_chosen(office):
    m.Customer.create(name="Old", phone="013912340000".lstrip("0"))  # stored without +86
    first = new_list(office, "a")
    fill(office, first, 3)  # not creating customers
    linked = {e["number"]: e["customer"] for e in office.lists.entries(first)}
    old = m.Customer.get(m.Customer.name == "Old").id
    assert linked == {"+8613912340000": old, "+8613912340001": None, "+8613912340002": None}
    assert m.Customer.select().count() == 1
    second = new_list(office, "b")
    fill(office, second, 3, create_customers=True)
    made = {c.phone: c.name for c in m.Customer.select().where(m.Customer.name != "Old")}
    assert made == {"+8613912340001": "客户1", "+8613912340002": "客户2"}
    assert all(e["customer"] for e in office.lists.entries(second))


def test_entries_are_split_evenly_among_agents_and_a_team(office):
    assert split_evenly(5, ["a", "b"]) == ["a", "b", "a", "b", "a"] and split_evenly(2, []) == ["", ""]
    list_id = new_list(office)
    fill(office, list_id, 5, queue="sales")
    assert [e["agent"] for e in office.lists.entries(list_id)] == ["1001", "1002", "1001", "1002", "1001"]
    with pytest.raises(ValidationError):
        fill(office, new_list(office, "x"), 1, agents=["9999"])


# -- preview: taking entries --------------------------------------------------------------------
def test_two_agents_never_get_the_same_entry(office):
    list_id = new_list(office)
    fill(office, list_id, 40)
    running(office, [list_id])
    taken = {"1001": [], "1002": []}
    start = threading.Barrier(2)

    def work(agent):
        office.db.connect(reuse_if_open=True)
        start.wait()
        while (entry := office.campaigns.take_next(agent)) is not None:
            taken[agent].append(entry.id)
            office.campaigns.skip(agent, entry.id, "test", agent)
        office.db.close()

    threads = [threading.Thread(target=work, args=(a,)) for a in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = taken["1001"] + taken["1002"]
    assert len(everything) == 40 and len(set(everything)) == 40
    assert m.CampaignAttempt.select().where(m.CampaignAttempt.result == "skipped").count() == 40


def test_an_entry_taken_by_someone_else_is_not_taken_again(office):
    list_id = new_list(office)
    fill(office, list_id, 1)
    running(office, [list_id])
    entry = office.campaigns.take_next("1001")
    assert office.campaigns.take_next("1002") is None
    assert office.campaigns.take_next("1001").id == entry.id  # the holder keeps it
    with pytest.raises(PermissionDenied):
        office.campaigns.skip("1002", entry.id, "not mine", "bob")


def test_assigned_entries_go_to_their_agent_and_a_paused_list_offers_nothing(office):
    list_id = new_list(office)
    fill(office, list_id, 2, agents=["1002"])
    running(office, [list_id])
    assert office.campaigns.take_next("1001") is None
    office.lists.set_state(list_id, "paused", "admin")
    assert office.campaigns.take_next("1002") is None
    office.lists.set_state(list_id, "active", "admin")
    assert office.campaigns.take_next("1002").agent == "1002"


# -- preview: dialling, the call, the disposition, auto-next ------------------------------------
def record(linkedid, number, agent="1001", disposition="answered", reason=""):
    return {"linkedid": linkedid, "direction": "outbound", "agent": agent, "caller": number,
            "disposition": disposition, "fallback_reason": reason, "answer_time": 1.0 if disposition == "answered"
            else None}


def finish_call(env, agent, linkedid, number, outcome="sale", call="answered", reason=""):  # noqa: F811
    """The call's record written (the engine's hook), then the agent's disposition saved."""
    env.campaigns.call_ended(record(linkedid, number, agent, call, reason))
    m.CallRecord.create(linkedid=linkedid, direction="outbound", caller=number, agent=agent,
                        enter_time=T0, disposition=call)
    headers = token_for(env, "alice" if agent == "1001" else "bob")
    env.app.post_json(f"/api/v1/agents/{agent}/calls/{linkedid}/outcome", {"disposition": outcome},
                      headers=headers)


def test_dial_saves_an_attempt_the_call_links_to_it_and_auto_next_offers_the_next(office):
    list_id = new_list(office)
    fill(office, list_id, 2)
    campaign = running(office, [list_id], script="您好，我是{坐席}")
    alice = token_for(office, "alice")
    panel = office.app.get("/api/v1/agents/1001/campaign", headers=alice).json
    entry = panel["entry"]
    assert entry["number"] == "+8613912340000" and entry["data"] == {"城市": "上海"}
    assert panel["campaign"]["script"] == "您好，我是{坐席}"
    res = office.app.post(f"/api/v1/agents/1001/campaign/entries/{entry['id']}/dial", headers=alice).json
    [action] = originated(office)  # click-to-dial: the agent's phone first, then the number
    assert (action.get("Channel"), action.get("Exten")) == ("PJSIP/1001", "13912340000")  # as dialled in China
    # the workspace wires the outcome hook in the composition root; here by hand
    office.deps.workspace.after_outcome = office.campaigns.outcome_saved
    assert office.app.get("/api/v1/agents/1001/campaign", headers=alice).json["entry"]["id"] == entry["id"]
    finish_call(office, "1001", "1700000000.1", "13912340000")
    attempt = m.CampaignAttempt.get_by_id(res["attempt"])
    assert (attempt.linkedid, attempt.result, attempt.disposition) == ("1700000000.1", "answered", "sale")
    nxt = office.app.get("/api/v1/agents/1001/campaign", headers=alice).json["entry"]
    assert nxt["id"] != entry["id"] and nxt["number"] == "+8613912340001"
    assert office.campaigns.figures(campaign)["dialled"] == 1
    assert office.campaigns.figures(campaign)["answered"] == 1 and office.campaigns.figures(campaign)["remaining"] == 1
    sup = token_for(office, "sup")
    book = load_workbook(io.BytesIO(office.app.get(f"/api/v1/campaigns/{campaign}/export?lang=zh_CN", headers=sup).body))
    [head, row] = list(book.active.values)
    assert head[:3] == ("时间", "坐席", "号码")
    assert row[0] == dt.datetime(2026, 12, 7, 10, 0) and row[1:6] == ("1001", "+8613912340000", "客户0", "spring", "已接通")
    assert (row[6], row[9]) == ("sale", "1700000000.1")


def test_auto_next_off_waits_for_the_agent_to_ask(office):
    list_id = new_list(office)
    fill(office, list_id, 2)
    running(office, [list_id], auto_next=False)
    alice = token_for(office, "alice")
    panel = office.app.get("/api/v1/agents/1001/campaign", headers=alice).json
    assert panel["entry"] is None and panel["waiting"] is True
    taken = office.app.post("/api/v1/agents/1001/campaign/next", headers=alice).json["entry"]
    office.app.post_json(f"/api/v1/agents/1001/campaign/entries/{taken['id']}/skip", {"reason": "已在跟进"}, headers=alice)
    assert office.app.get("/api/v1/agents/1001/campaign", headers=alice).json["entry"] is None


def test_a_refused_number_is_recorded_and_nothing_reaches_asterisk(office):
    m.Agent.update(call_permission="internal").where(m.Agent.number == "1001").execute()
    list_id = new_list(office)
    fill(office, list_id, 1)
    campaign = running(office, [list_id])
    entry = office.campaigns.take_next("1001")
    with pytest.raises(CallNotPermitted):
        office.campaigns.dial("1001", entry.id, "alice")
    assert not originated(office)
    attempt = m.CampaignAttempt.get()
    assert attempt.result == "refused" and "internal" in attempt.note
    assert m.CallListEntry.get_by_id(entry.id).state == "done"
    assert office.campaigns.figures(campaign)["refused"] == 1 and office.campaigns.figures(campaign)["dialled"] == 0


def test_a_call_back_comes_back_to_the_same_agent_at_its_time(office):
    list_id = new_list(office)
    fill(office, list_id, 2)
    running(office, [list_id])
    office.deps.workspace.after_outcome = office.campaigns.outcome_saved
    first = office.campaigns.take_next("1002")
    office.campaigns.dial("1002", first.id, "bob")
    with pytest.raises(ValidationError):
        office.campaigns.callback("1002", first.id, "2026-12-07T09:00", "bob")  # the past on the office's clock
    office.campaigns.callback("1002", first.id, "2026-12-07T11:00", "bob")  # 03:00 UTC
    office.campaigns.call_ended(record("1700000000.2", "13912340000", "1002", "unanswered", "dial-noanswer"))
    assert m.CampaignAttempt.get().result == "no-answer"
    second = office.campaigns.take_next("1002")
    assert second.id != first.id  # not before its time
    office.campaigns.skip("1002", second.id, "x", "bob")
    assert office.campaigns.take_next("1001") is None and office.campaigns.take_next("1002") is None
    office.clock.now = dt.datetime(2026, 12, 7, 3, 0)
    assert office.campaigns.take_next("1001") is None  # not someone else's
    back = office.campaigns.take_next("1002")
    assert back.id == first.id and back.state == "offered"


def test_recycle_brings_back_only_no_answer_and_busy(office):
    list_id = new_list(office)
    fill(office, list_id, 4)
    running(office, [list_id])
    office.deps.workspace.after_outcome = office.campaigns.outcome_saved
    outcomes = [("answered", ""), ("unanswered", "dial-noanswer"), ("unanswered", "dial-busy")]
    for i, (disposition, reason) in enumerate(outcomes):
        entry = office.campaigns.take_next("1001")
        office.campaigns.dial("1001", entry.id, "alice")
        finish_call(office, "1001", f"1700000001.{i}", entry.number, "resolved", disposition, reason)
    skipped = office.campaigns.take_next("1001")
    office.campaigns.skip("1001", skipped.id, "wrong person", "alice")
    results = {e["number"]: (e["last_result"], e["state"]) for e in office.lists.entries(list_id)}
    assert sorted(results.values()) == [("answered", "done"), ("busy", "done"), ("no-answer", "done"),
                                        ("skipped", "done")]
    assert office.lists.recycle(list_id, "admin") == 2
    assert sorted(e["last_result"] for e in office.lists.entries(list_id, state="pending")) == ["busy", "no-answer"]
    # the export: every attempt, in the reader's language
    book = load_workbook(io.BytesIO(office.lists.export(list_id, lambda k: i18n.translate("zh_CN", k))))
    rows = list(book.active.values)
    assert rows[0][:3] == ("号码", "姓名", "分配坐席") and "城市" in rows[0]
    assert sorted(r[8] for r in rows[1:]) == sorted(["已接通", "无人接听", "忙", "已跳过"])


def test_numbers_are_dialled_as_from_the_office():
    from appliance import numbers

    assert [numbers.dialable(n) for n in ("+862160001234", "+8613912340000", "+12125551234", "1001")] == [
        "02160001234", "13912340000", "0012125551234", "1001"]
    assert numbers.dialable("+12125551234", "US") == "12125551234"  # 1 + the area code, as dialled there


def test_result_of_a_call_record():
    assert result_of({"disposition": "answered"}) == "answered"
    assert result_of({"disposition": "unanswered", "fallback_reason": "dial-busy"}) == "busy"
    assert result_of({"disposition": "unanswered", "fallback_reason": "dial-chanunavail"}) == "failed"
    assert result_of({"disposition": "unanswered", "fallback_reason": "dial-noanswer"}) == "no-answer"


# -- campaigns: modes, states, roles ------------------------------------------------------------
def test_an_unknown_mode_is_refused_and_starting_needs_lists_and_agents(office):
    admin = token_for(office, "admin")
    res = office.app.post_json("/api/v1/campaigns", {"name": "p", "mode": "robocall"}, headers=admin, status=422)
    assert res.json["error"] == "validation_failed" and "mode" in res.json["fields"], res.json
    c = office.app.post_json("/api/v1/campaigns", {"name": "p", "display_name": "春季回访"}, headers=admin,
                             status=201).json
    assert office.app.post_json(f"/api/v1/campaigns/{c['id']}/state", {"state": "running"}, headers=admin,
                                status=409).json["error"] == "campaigns.no_lists"
    list_id = new_list(office)
    office.app.patch_json(f"/api/v1/campaigns/{c['id']}", {"lists": [list_id]}, headers=admin)
    assert office.app.post_json(f"/api/v1/campaigns/{c['id']}/state", {"state": "running"}, headers=admin,
                                status=409).json["error"] == "campaigns.no_agents"
    stale = office.app.get(f"/api/v1/campaigns/{c['id']}", headers=admin).json["updated_at"]
    office.clock.now += dt.timedelta(seconds=1)  # another admin's edit, a moment later
    office.app.patch_json(f"/api/v1/campaigns/{c['id']}", {"queue": "sales"}, headers=admin)
    assert office.app.patch_json(f"/api/v1/campaigns/{c['id']}", {"script": "x", "updated_at": stale},
                                 headers=admin, status=409).json["error"] == "changed"


def test_a_dialled_campaign_keeps_its_pacing_and_retry_fields_and_says_what_its_dialling_does(office):
    from test_webui import sign_in

    from appliance.services.dialer import Dialer

    admin = token_for(office, "admin")
    offline = type("Ami", (), {"connected": False})()
    office.campaigns.dialing = Dialer(office.db, offline, LiveState(), office.deps.compliance, office.campaigns,
                                      None, clock=office.clock).status
    list_id = new_list(office)
    fill(office, list_id, 2)
    c = office.app.post_json("/api/v1/campaigns", {
        "name": "p", "mode": "power", "ratio": 2.5, "queue": "sales", "lists": [list_id], "retry_busy_minutes": 5,
        "max_attempts": 2}, headers=admin, status=201).json
    assert (c["mode"], c["ratio"], c["retry_busy_minutes"], c["max_attempts"], c["target_abandon"],
            c["max_lines_per_agent"]) == ("power", 2.5, 5, 2, 3.0, 3.0)
    bad = office.app.patch_json(f"/api/v1/campaigns/{c['id']}", {"ratio": 0.5, "max_attempts": 2.5}, headers=admin,
                                status=422).json
    assert set(bad["fields"]) == {"ratio"}  # the first field found wrong
    office.app.patch_json(f"/api/v1/campaigns/{c['id']}", {"callerid_pool": "nope"}, headers=admin, status=422)
    office.app.post_json(f"/api/v1/campaigns/{c['id']}/state", {"state": "running"}, headers=admin)
    figures = office.app.get(f"/api/v1/campaigns/{c['id']}/figures", headers=admin).json
    assert figures["dialer"] == {"status": "no_asterisk", "agents_ready": 0, "agents_busy": 0, "lines_ringing": 0,
                                 "dial_level": 2.5}
    assert (figures["abandoned"], figures["abandon_rate"]) == (0, 0.0)
    # an agent's entry of a dialled campaign is not dialled by hand
    entry = office.campaigns.panel("1001", take=True)["entry"]
    assert entry is None  # the dialer takes its entries, not the agents' panels
    sign_in(office.app, "sup")
    page = office.app.get(f"/campaigns/{c['id']}")
    assert page.html.select_one("#dialer-state").text == "not dialling: the telephone system is not connected"
    assert page.html.select_one('[data-dialer="dial_level"] .figure').text == "2.5"
    assert page.html.select_one("#c-mode option[selected]")["value"] == "power"
    form = page.forms["campaign-edit"]
    form["mode"], form["ratio"], form["retry_no_answer_minutes"] = "predictive", "1.5", "abc"
    refused = form.submit(status=422)
    assert refused.html.select_one("#c-retry_no_answer_minutes").find_parent("div")["class"] == ["field", "has-error"]
    form = refused.forms["campaign-edit"]
    form["retry_no_answer_minutes"], form["target_abandon"] = "30", "2"
    form.submit().follow()
    row = m.Campaign.get_by_id(c["id"])
    assert (row.mode, row.ratio, row.retry_no_answer_minutes, row.target_abandon) == ("predictive", 1.5, 30, 2.0)


def test_agents_see_only_their_own_panel_and_manage_nothing(office):
    alice, bob = token_for(office, "alice"), token_for(office, "bob")
    list_id = new_list(office)
    fill(office, list_id, 1)
    running(office, [list_id])
    office.app.get("/api/v1/calllists", headers=alice, status=403)
    office.app.post_json("/api/v1/campaigns", {"name": "mine"}, headers=alice, status=403)
    office.app.get("/api/v1/campaigns/1/figures", headers=alice, status=403)
    office.app.get("/api/v1/agents/1001/campaign", headers=bob, status=403)
    entry = office.app.get("/api/v1/agents/1001/campaign", headers=alice).json["entry"]
    office.app.post(f"/api/v1/agents/1002/campaign/entries/{entry['id']}/dial", headers=bob, status=403)
    assert [c["name"] for c in office.app.get("/api/v1/campaigns", headers=alice).json["items"]] == ["spring"]


# -- the pages ----------------------------------------------------------------------------------
def test_the_list_import_pages_check_then_import_and_the_campaign_page_counts(office):
    from test_webui import sign_in

    sign_in(office.app, "sup")
    page = office.app.get("/calllists")
    form = page.forms["calllist-add"]
    form["name"], form["display_name"] = "spring", "春季回访"
    detail = form.submit().follow()
    upload = detail.forms["upload"]
    upload["file"] = ("list.xlsx", xlsx([["客户名称", "手机号码", "城市"], ["张三", "13912340001", "上海"],
                                        ["李四", "12", "北京"], ["王五", "13912340002", "杭州"]]))
    mapping = upload.submit().follow()
    step = mapping.forms["mapping"]
    assert step["phone_column"].value == "1" and step["name_column"].value == "0"  # guessed from the titles
    step["queue"] = "sales"
    report = step.submit(status=422)
    assert "import-good" in report.forms and "confirm" not in report.forms
    assert report.html.select_one("#errors td:nth-of-type(1)").text == "3"
    done = report.forms["import-good"].submit()
    assert done.html.select_one("#imported") is not None and done.html.select_one("#rejected-download")
    assert [e["agent"] for e in office.lists.entries(1)] == ["1001", "1002"]
    exported = load_workbook(io.BytesIO(office.app.get("/calllists/1/export").body)).active
    assert [r[0] for r in exported.values] == ["Number", "+8613912340001", "+8613912340002"]
    campaigns = office.app.get("/campaigns")
    options = {o.get("value"): o.has_attr("disabled") for o in campaigns.html.select("#c-mode option")}
    assert options == dict.fromkeys(("preview", "progressive", "power", "predictive", "notification", "press-key",
                                     "survey"), False)  # every mode can be chosen
    add = campaigns.forms["campaign-add"]
    add["name"], add["queue"] = "spring", "sales"
    add.set("lists", True, index=0)
    page = add.submit().follow()
    page = page.forms["campaign-run"].submit("state").follow()  # start
    assert page.html.select_one("#campaign-state").text == "running"
    assert page.html.select_one('[data-figure="remaining"] .figure').text == "2"


def test_the_api_import_reports_problems_then_imports_with_confirm(office):
    sup = token_for(office, "sup")
    list_id = office.app.post_json("/api/v1/calllists", {"name": "api"}, headers=sup, status=201).json["id"]
    bad = xlsx([["Phone", "Name"], ["13912340001", "A"], ["oops", "B"]])
    res = office.app.post(f"/api/v1/calllists/{list_id}/import?confirm=1", upload_files=[("file", "l.xlsx", bad)],
                          headers=sup, status=422)
    assert res.json["error"] == "import.has_errors" and res.json["report"]["error_count"] == 1
    assert m.CallListEntry.select().count() == 0
    res = office.app.post(f"/api/v1/calllists/{list_id}/import?confirm=1", {"mode": "good", "agents": "1002"},
                          upload_files=[("file", "l.xlsx", bad)], headers=sup)
    assert res.json["imported"] == 1
    [entry] = office.app.get(f"/api/v1/calllists/{list_id}/entries", headers=sup).json["items"]
    assert (entry["number"], entry["name"], entry["agent"]) == ("+8613912340001", "A", "1002")
    export = office.app.get(f"/api/v1/calllists/{list_id}/export?lang=zh_CN", headers=sup)
    assert load_workbook(io.BytesIO(export.body)).active["A1"].value == "号码"


def test_the_agent_reads_the_customer_of_the_entry_offered_to_them_and_no_other(office):
    alice, bob = token_for(office, "alice"), token_for(office, "bob")
    list_id = new_list(office)
    fill(office, list_id, 2, create_customers=True, agents=["1001"])
    running(office, [list_id])
    first, second = (e["customer"] for e in office.lists.entries(list_id))
    office.app.get(f"/api/v1/customers/{first}", headers=alice, status=404)  # nothing offered yet
    url = office.app.get("/api/v1/agents/1001/campaign", headers=alice).json["entry"]["customer_url"]
    assert url == f"/customers/{first}"
    assert office.app.get(f"/api/v1/customers/{first}", headers=alice).json["name"] == "客户0"
    office.app.get(f"/api/v1/customers/{second}", headers=alice, status=404)  # not offered
    office.app.get(f"/api/v1/customers/{first}", headers=bob, status=404)  # not bob's entry


def test_a_campaign_offers_nothing_outside_its_start_and_stop_times(office):
    list_id = new_list(office)
    fill(office, list_id, 1)
    running(office, [list_id], start_at="2026-12-07T11:00", stop_at="2026-12-07T12:00")  # the office's clock
    assert office.campaigns.get(1)["start_at"] == "2026-12-07T03:00:00Z"
    assert office.campaigns.take_next("1001") is None  # 10:00 in the office
    office.clock.now = dt.datetime(2026, 12, 7, 3, 30)
    entry = office.campaigns.take_next("1001")
    office.clock.now = dt.datetime(2026, 12, 7, 4, 0)
    assert office.campaigns.panel("1001")["campaigns"] == []  # stopped by its clock
    with pytest.raises(Conflict):
        office.campaigns.dial("1001", entry.id, "alice")
    assert not originated(office)
    with pytest.raises(ValidationError):
        office.campaigns.update(1, {"stop_at": "2026-12-07T10:00"}, "admin")  # before the start
