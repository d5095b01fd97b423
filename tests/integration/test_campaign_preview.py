"""Preview campaign on real Asterisk: Alice (a SIPp phone, registered and signed in) opens her
campaign panel and gets the list's first number; she dials it through the API, her phone
rings and answers, the number goes out to the carrier (a SIPp trunk) who answers and hangs
up; the call record (outbound, hers) is linked to the attempt (answered); she saves the
disposition and the panel offers the next number by itself (auto-next)."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from openpyxl import Workbook

from appliance.db.models import CallRecord, CampaignAttempt, CallListEntry
from appliance.engine.live import FREE
from appliance.services.calllists import CallLists
from appliance.services.customer_excel import CustomerExcel
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, sip_address, wait_until

pytestmark = pytest.mark.asterisk

FIRST, SECOND = "021-6000 1234", "13912340000"


def test_an_agent_previews_dials_and_gets_the_next_number(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)  # trunk pstn, queue sales with agent 1001 at phone 1001
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    alice = app.users.create("alice", "pw-alice-1234", "agent", language="en")
    app.config.update("agents", "1001", {"user": "alice"}, actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    token = app.users.create_token(alice["id"], "t")
    base = f"http://127.0.0.1:{app.web.server_port}/api/v1/agents/1001"

    def api(method, path, body=None):
        request = urllib.request.Request(base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    # the list and the campaign, as a supervisor makes them (the services the pages call)
    excel = CustomerExcel(app.db, app.crm)
    lists, campaigns = CallLists(app.db, excel), app.campaigns
    list_id = lists.create({"name": "spring"}, "sup")["id"]
    sheet = tmp_path / "list.xlsx"
    book = Workbook()
    for row in (["号码", "姓名"], [FIRST, "张三"], [SECOND, "李四"]):
        book.active.append(row)
    book.save(sheet)
    assert lists.import_sheet(excel.read(sheet), list_id, 0, 1, actor="sup",
                              source="list.xlsx")[0] == 2
    campaign = campaigns.create({"name": "spring", "queue": "sales", "lists": [list_id], "script": "您好"}, "sup")
    campaigns.set_state(campaign["id"], "running", "sup")

    carrier = Sipp("trunk_answer.xml", TRUNK_IP, carrier_port, None, {}, tmp_path / "sipp",
                   extra_args=("-d", "1000")).start()
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=300).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
        panel = api("GET", "/campaign")
        entry = panel["entry"]
        assert (entry["number"], entry["name"], panel["campaign"]["script"]) == ("+862160001234", "张三", "您好")
        dialled = api("POST", f"/campaign/entries/{entry['id']}/dial")
        assert dialled["number"] == "02160001234"  # as the office dials it
        assert carrier.wait(30) == 0, carrier.errors()  # the customer answered, talked, hung up
        record = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "02160001234"), 15, "the record")
        assert (record.direction, record.agent, record.disposition) == ("outbound", "1001", "answered")
        attempt = wait_until(lambda: CampaignAttempt.get_or_none(CampaignAttempt.linkedid == record.linkedid), 10,
                             "the attempt linked to the call")
        assert (attempt.id, attempt.result, attempt.agent) == (dialled["attempt"], "answered", "1001")
        # the same entry stays on the panel until the disposition is saved
        assert api("GET", "/campaign")["entry"]["id"] == entry["id"]
        api("POST", f"/calls/{record.linkedid}/outcome", {"disposition": "sale", "note": ""})
        assert CampaignAttempt.get_by_id(attempt.id).disposition == "sale"
        assert CallListEntry.get_by_id(entry["id"]).state == "done"
        nxt = api("GET", "/campaign")["entry"]
        assert nxt["number"] == "+8613912340000" and nxt["state"] == "offered"
        assert campaigns.figures(campaign["id"])["answered"] == 1
    finally:
        phone.stop()
        carrier.stop()
