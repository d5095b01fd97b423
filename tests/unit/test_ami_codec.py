"""The AMI codec: any chunking, bad frames skipped, header injection refused."""

from __future__ import annotations

import random

import pytest

from appliance.ami.codec import ActionIdGenerator, Decoder, Frame, HeaderInjection, MalformedFrame, serialize_action

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
LOGIN_OK = b"Response: Success\r\nActionID: a-1\r\nMessage: Authentication accepted\r\n\r\n"
EVENT = (b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/pstn-00000001\r\n"
         b"ChanVariable: A=1\r\nChanVariable: B=2\r\nUniqueid: 1700000000.1\r\n\r\n")
COMMAND = (b"Response: Success\r\nActionID: a-2\r\nMessage: Command output follows\r\n"
           b"Output: Name/username   Host\r\nOutput: 1001/1001   127.0.0.1\r\n\r\n")
STREAM = BANNER + LOGIN_OK + EVENT + COMMAND


def test_banner_then_frames_in_one_read():
    d = Decoder()
    frames = d.feed(STREAM)
    assert d.banner == "Asterisk Call Manager/9.0.0"
    assert [f.name for f in frames] == ["Success", "Newchannel", "Success"]
    login, event, command = frames
    assert login.kind == "response" and login.action_id == "a-1"
    assert event.kind == "event" and event.get("channel") == "PJSIP/pstn-00000001"
    assert event.get_all("ChanVariable") == ["A=1", "B=2"]
    assert event.as_dict()["ChanVariable"] == "A=1"
    assert command.as_dict()["Output"] == "Name/username   Host\n1001/1001   127.0.0.1"


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_gives_the_same_frames(seed):
    rng = random.Random(seed)
    whole = Decoder().feed(STREAM)
    d, got, i = Decoder(), [], 0
    while i < len(STREAM):
        n = rng.randint(1, 7)
        got += d.feed(STREAM[i:i + n])
        i += n
    assert got == whole


def test_byte_by_byte():
    d = Decoder()
    got = [f for b in STREAM for f in d.feed(bytes([b]))]
    assert [f.name for f in got] == ["Success", "Newchannel", "Success"]


def test_bare_line_feeds_are_accepted():
    frames = Decoder().feed(STREAM.replace(b"\r\n", b"\n"))
    assert [f.name for f in frames] == ["Success", "Newchannel", "Success"]


def test_no_banner_is_fine():
    d = Decoder()
    assert [f.name for f in d.feed(LOGIN_OK)] == ["Success"] and d.banner == ""


def test_bad_line_reports_that_frame_and_decoding_goes_on():
    d = Decoder()
    d.feed(BANNER)
    out = d.feed(b"Event: Broken\r\nthis line has no colon\r\n\r\n" + EVENT)
    assert isinstance(out[0], MalformedFrame) and b"no colon" in out[0].raw
    assert isinstance(out[1], Frame) and out[1].name == "Newchannel"


def test_non_utf8_is_replaced_not_fatal():
    d = Decoder()
    d.feed(BANNER)
    [frame] = d.feed("Event: Newchannel\r\nCallerIDName: 张三\r\n\r\n".encode("gbk"))
    assert isinstance(frame, Frame) and "\ufffd" in frame.get("CallerIDName")


def test_oversize_frame_is_dropped_and_the_next_one_read():
    d = Decoder(max_frame_bytes=1000)
    d.feed(BANNER)
    out = []
    out += d.feed(b"Event: Huge\r\nData: " + b"x" * 600)
    out += d.feed(b"x" * 600)
    out += d.feed(b"x" * 600 + b"\r\n\r\n" + EVENT)
    assert isinstance(out[0], MalformedFrame)
    assert [f.name for f in out[1:]] == ["Newchannel"]


def test_serialize_action_round_trips():
    data = serialize_action("QueueAdd", {"Queue": "sales", "Interface": "PJSIP/1001", "Penalty": 0,
                                          "Variable": ["A=1", "B=2"], "Skipped": None}, "x-1")
    assert data == (b"Action: QueueAdd\r\nActionID: x-1\r\nQueue: sales\r\nInterface: PJSIP/1001\r\n"
                    b"Penalty: 0\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n")
    [frame] = Decoder().feed(data)
    assert frame.get("Action") == "QueueAdd" and frame.get_all("Variable") == ["A=1", "B=2"]


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "\0"])
@pytest.mark.parametrize("where", ["name", "key", "value", "list"])
def test_crlf_or_nul_anywhere_is_refused(bad, where):
    name, headers = "Originate", {"Channel": "PJSIP/1001"}
    if where == "name":
        name = "Originate" + bad + "Action: Command"
    elif where == "key":
        headers = {"Call" + bad + "erID": "x"}
    elif where == "value":
        headers = {"CallerID": "Evil" + bad + "Action: Command\r\nCommand: core stop now"}
    else:
        headers = {"Variable": ["A=1", "B=" + bad]}
    with pytest.raises(HeaderInjection):
        serialize_action(name, headers, "x-1")


def test_header_names_must_be_names():
    for key in ("", "A: B", " Lead"):
        with pytest.raises(HeaderInjection):
            serialize_action("Ping", {key: "x"}, "x-1")


def test_action_ids_are_unique():
    ids = ActionIdGenerator("p")
    assert [ids(), ids()] == ["p-1", "p-2"]
    assert ActionIdGenerator().prefix != ActionIdGenerator().prefix
