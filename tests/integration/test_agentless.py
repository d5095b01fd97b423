"""Campaigns without agents and answering-machine detection on real Asterisk (issue 16, points
4 and 5), one appliance for the module.  Each call is originated through AMI as the dialer
does: ``PJSIP/<number>@trunk-pstn`` to a SIPp callee behind the trunk, with CC_CAMPAIGN and
CC_ATTEMPT, answered into ``cc-campaign-agentless,<mode>``.

- A voice notification: the callee hears the prompt, then the amount of its row (120.5)
  said in Chinese (一百二十元五角, the appliance's own words), played to the end; the
  attempt says heard, and so does the event bus.
- Press a key: the callee keys 1 during the prompt and is put into queue sales, where
  Alice's SIPp phone answers; the key is on the attempt.
- A survey: two questions, keys 4 then 2, kept on the attempt in order.
- AMD: a callee who says a short 喂？ (or 喂，你好？: two words, which Asterisk's default of
  two words would call a machine) then listens is a person (the message follows at once);
  one whose machine plays a long greeting, a beep, then records is a machine, and the
  campaign (leave the message) waits for the greeting to end before the message.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from appliance import dialplan_vars as v
from appliance import sounds
from appliance.db.models import CallList, CallListEntry, CallRecord, CampaignAttempt, utcnow
from appliance.services.calllists import CallLists
from appliance.services.customer_excel import CustomerExcel
from harness import (TRUNK_IP, RtpPcap, Sipp, channels, configure_basic, executed, free_port, leg, played,
                     signed_in_phone, started, wait_until, write_dtmf_pcap)

pytestmark = pytest.mark.asterisk

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "agentless"
ROWS = [["号码", "姓名", "金额"], ["13912340001", "张三", "120.5"], ["13912340002", "李四", "8"],
        ["13912340003", "王五", "9"], ["13912340004", "赵六", "10"], ["13912340005", "钱七", "11"],
        ["13912340006", "孙八", "12"]]


@pytest.fixture(scope="module")
def office(make_module_appliance, tmp_path_factory):
    app = make_module_appliance()
    configure_basic(app)  # trunk pstn, queue sales with agent 1001 at phone 1001
    port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": port}, actor="test")
    started(app)
    logs = tmp_path_factory.mktemp("sipp")
    excel = CustomerExcel(app.db, app.crm)
    lists = CallLists(app.db, excel)
    list_id = lists.create({"name": "bills"}, "sup")["id"]
    book = Workbook()
    for row in ROWS:
        book.active.append(row)
    book.save(logs / "list.xlsx")
    assert lists.import_sheet(excel.read(logs / "list.xlsx"), list_id, 0, 1, actor="sup", source="list.xlsx")[0] == 6
    made = []  # the values said in each call, as the service made them (the file goes with the call)
    store = app.agentless._store
    app.agentless._store = lambda attempt, audio: made.append(audio) or store(attempt, audio)
    entries = list(CallListEntry.select().where(CallListEntry.call_list == list_id).order_by(CallListEntry.id))
    return SimpleNamespace(app=app, port=port, logs=logs, list_id=list_id, made=made, entries=entries)


def campaign(office, name: str, **settings) -> int:
    """A running campaign whose start is far off, so the dialer places none of its calls: the
    tests here place them as it would (the last test lets the dialer do it)."""
    c = office.app.campaigns.create({"name": name, "lists": [office.list_id], "start_at": "2099-01-01T09:00",
                                     **settings}, "sup")
    office.app.campaigns.set_state(c["id"], "running", "sup")
    return c["id"]


def call(office, campaign_id: int, mode: str, row: int, scenario: str, **keys):
    """The dialer's part: an attempt, and the call originated into the mode's extension."""
    entry = office.entries[row]
    attempt = CampaignAttempt.create(campaign=campaign_id, entry=entry.id, agent="", number=entry.number,
                                     started_at=utcnow())
    callee = Sipp(scenario, TRUNK_IP, office.port, None, keys, office.logs).start()
    number = ROWS[row + 1][0]
    response = office.app.ami.send_action("Originate", {
        "Channel": f"PJSIP/{number}@trunk-pstn", "Context": v.AGENTLESS_CONTEXT, "Exten": mode, "Priority": 1,
        "Variable": f"{v.CAMPAIGN}={campaign_id},{v.ATTEMPT}={attempt.id}", "Timeout": 30000, "Async": "true"})
    assert response.name == "Success", response
    return callee, attempt.id


def attempt(attempt_id: int) -> CampaignAttempt:
    return CampaignAttempt.get_by_id(attempt_id)


def when_played(app, ending: str, before: int, timeout: float = 30) -> None:
    wait_until(lambda: any(f.endswith(ending) for f in played(app)[before:]), timeout, f"Asterisk to play {ending}")


def signal_callee(app, callee: Sipp) -> None:
    """Tells the SIPp callee (it answered, so it knows the call by Asterisk's Call-ID) to go on."""
    name = next(n for n in channels(app) if n.startswith("PJSIP/trunk-pstn-"))
    call_id = app.ami.send_action("Getvar", {"Channel": name, "Variable": "CHANNEL(pjsip,call-id)"}).get("Value")
    callee.signal(call_id=call_id)


def ours(language: str, *keys: str) -> bytes:
    return b"".join((sounds.SOURCE_DIR / language / f"cc-{k}.gsm").read_bytes() for k in keys)


def test_a_notification_says_the_prompt_then_the_rows_amount(office):
    app = office.app
    c = campaign(office, "bill", mode="notification", prompt="zh-goodbye",
                 spoken=[{"column": "金额", "as": "amount"}])
    events = app.bus.subscribe()
    before = len(played(app))
    callee, a = call(office, c, "notification", 0, "trunk_answer_listen.xml")
    try:
        wait_until(lambda: attempt(a).heard, 30, "the message played to the end")
        assert callee.wait(30) == 0, callee.errors()  # and the appliance hung up
    finally:
        callee.stop()
    files = played(app)[before:]
    assert files[0].endswith("/zh_CN/cc-goodbye.gsm") and "/campaigns/ca-" in files[1], files
    assert office.made[-1] == ours("zh_CN", "digit-1", "say-hundred", "digit-2", "say-ten", "say-yuan", "digit-5",
                                   "say-jiao")  # 一百二十元五角
    assert ("campaign", "heard", a) in [(t, e["event"], e.get("attempt")) for t, e in events.drain()]
    wait_until(lambda: not list((app.pbx.run_dir / "campaigns").glob("ca-*.gsm")), 10, "the call's audio removed")


def test_press_1_puts_the_callee_into_the_queue_where_an_agent_answers(office, tmp_path):
    app = office.app
    c = campaign(office, "press", mode="press-key", prompt="zh-welcome", queue="sales", press_key="1")
    phone = signed_in_phone(app, tmp_path)
    before = len(played(app))
    callee, a = call(office, c, "press-key", 1, "trunk_answer_key.xml",
                     dtmf_pcap=write_dtmf_pcap(office.logs / "key-1.pcap", "1"))
    try:
        when_played(app, "/zh_CN/cc-welcome.gsm", before)
        signal_callee(app, callee)  # keys 1 while the prompt plays
        wait_until(lambda: leg(app, "PJSIP/1001-").get("bridge"), 30, "Alice to answer the queued call")
        assert "Queue" in executed(app)
        assert attempt(a).keys == "1"
        app.ami.send_action("Hangup", {"Channel": next(n for n in channels(app) if n.startswith("PJSIP/trunk-"))})
        assert callee.wait(30) == 0, callee.errors()
        assert phone.answer.wait(30) == 0, phone.answer.errors()
    finally:
        callee.stop()
        phone.stop()
        app.agents.logout("1001")
    # a normal queued call: its record names the queue, the agent who answered, the trunk
    record = wait_until(lambda: CallRecord.get_or_none(CallRecord.queue == "sales"), 15, "the call's record")
    assert (record.agent, record.disposition, record.trunk) == ("1001", "answered", "pstn")


def later_key(path: Path, digit: str) -> Path:
    """A second key in the same call: its RTP timestamps after the first pcap's (each pcap
    starts at the same timestamp, and Asterisk would take this key for a repeat)."""
    rtp = RtpPcap()
    rtp.timestamp += 8000 * 60
    return rtp.keys(digit).write(path)


def test_a_survey_keeps_each_key_in_order(office):
    app = office.app
    c = campaign(office, "ask", mode="survey", questions=["zh-survey", "en-survey"])
    before = len(played(app))
    callee, a = call(office, c, "survey", 2, "trunk_answer_two_keys.xml",
                     dtmf_pcap=write_dtmf_pcap(office.logs / "key-4.pcap", "4"),
                     dtmf_pcap2=later_key(office.logs / "key-2.pcap", "2"))
    try:
        when_played(app, "/zh_CN/cc-survey.gsm", before)
        signal_callee(app, callee)
        when_played(app, "/en/cc-survey.gsm", before)
        signal_callee(app, callee)
        assert callee.wait(30) == 0, callee.errors()  # thanked, and hung up on
    finally:
        callee.stop()
    assert json.loads(attempt(a).answers) == ["4", "2"]
    assert played(app)[before:][-1].endswith("/zh_CN/cc-survey-thanks.gsm")


def speech(office, name: str, then_beep: bool) -> Path:
    """What the callee says from the answer on: a moment's silence, the recording, (a
    machine's beep,) then silence while it listens (a phone keeps sending packets)."""
    rtp = RtpPcap().audio(0.2).alaw((DATA / f"{name}.al").read_bytes())
    if then_beep:
        rtp.audio(0.3).audio(0.4, amplitude=0.3, hz=1000)
    return rtp.audio(6.0).write(office.logs / f"{name}.pcap")


@pytest.mark.parametrize("name, result", [("hello", "human"), ("hello-nihao", "human"), ("greeting", "machine")])
def test_amd_tells_a_person_from_a_machine_and_leaves_the_message(office, name, result):
    app = office.app
    # its start far off (``campaign``): the dialer places none of its calls, or one of them
    # (whenever the calling window is open) took the callee this test placed its own call to
    c = campaign(office, f"amd-{name}", mode="notification", prompt="zh-goodbye", amd=True, amd_action="message")
    events = app.bus.subscribe()
    ran = len(executed(app))
    row = {"hello": 3, "hello-nihao": 4, "greeting": 5}[name]
    callee, a = call(office, c, "notification", row, "trunk_answer_speak.xml",
                     audio_pcap=speech(office, name, then_beep=result == "machine"))
    try:
        wait_until(lambda: attempt(a).heard, 40, "the message played to the end")
        assert callee.wait(30) == 0, callee.errors()
    finally:
        callee.stop()
    row = attempt(a)
    assert row.amd == result, row.amd_cause
    apps = executed(app)[ran:]
    assert apps.index("AMD") < apps.index("Playback")
    # a machine's message waits for its greeting (and beep) to end; a person's comes at once
    assert ("WaitForSilence" in apps) == (result == "machine")
    assert [(e["event"], e["result"]) for t, e in events.drain() if t == "campaign" and e["event"] == "amd"] == [
        ("amd", result)]


def test_the_dialer_places_a_notification_campaigns_call_itself(office):
    """End to end: no agent, the dialer takes the entry, originates through the trunks, the
    callee hears the message; the attempt is answered and heard, the entry done, the call an
    outbound record to that number."""
    app = office.app
    lst = CallList.create(name="dialled")
    entry = CallListEntry.create(call_list=lst, number="+8613912340099", number_key="13912340099")
    callee = Sipp("trunk_answer_listen.xml", TRUNK_IP, office.port, None, {}, office.logs).start()
    try:
        c = app.campaigns.create({"name": "dialled", "mode": "notification", "prompt": "zh-goodbye",
                                  "lists": [lst.id]}, "sup")
        app.campaigns.set_state(c["id"], "running", "sup")
        done = wait_until(lambda: CampaignAttempt.get_or_none((CampaignAttempt.campaign == c["id"])
                                                              & CampaignAttempt.ended_at.is_null(False)),
                          60, "the dialer's call to end")
        assert callee.wait(30) == 0, callee.errors()
    finally:
        callee.stop()
        app.campaigns.set_state(c["id"], "stopped", "sup")
    assert (done.result, done.heard, done.agent) == ("answered", True, ""), done.__data__
    assert CallListEntry.get_by_id(entry.id).state == "done"
    record = wait_until(lambda: CallRecord.get_or_none(CallRecord.linkedid == done.linkedid), 15, "its record")
    assert (record.direction, record.caller) == ("outbound", "13912340099")
