"""Property tests of the two wire codecs the call path trusts: AMI (appliance/ami/codec.py)
and FastAGI (appliance/agi/protocol.py).  Hypothesis generates the bytes; each property
says what must hold for *any* input, so the next hole of the injection or crash kind is
found by a machine.  ``make fuzz`` runs them with many more examples (FUZZ_EXAMPLES)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from appliance.agi import protocol as agi
from appliance.ami.codec import Decoder, Frame, HeaderInjection, MalformedFrame, serialize_action

pytestmark = pytest.mark.fuzz

# Bytes that look like AMI: mostly header lines and separators, sometimes junk.
AMI_PIECES = st.sampled_from([b"Event: Newchannel\r\n", b"Channel: PJSIP/1001-0000\r\n", b"\r\n", b"\n",
                              b"Key:", b" value", b":", b"\r", b"Asterisk Call Manager/11.0.0\r\n",
                              b"Response: Success\r\nActionID: a-1\r\n\r\n", b"\xff\xfe", b"x" * 40])
AMI_BYTES = st.one_of(st.binary(max_size=600), st.lists(AMI_PIECES, max_size=40).map(b"".join))


def _shape(items) -> list:
    """Frames and malformed markers as comparable values."""
    return [("frame", tuple(i.headers)) if isinstance(i, Frame) else ("malformed", i.reason) for i in items]


def _feed_in_chunks(data: bytes, cuts: list[int], max_frame_bytes: int):
    decoder = Decoder(max_frame_bytes=max_frame_bytes)
    out, last = [], 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        out.extend(decoder.feed(data[last:cut]))
        last = cut
    return decoder, out


@given(AMI_BYTES, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_ami_decoder_never_raises_and_yields_only_frames(data, cuts):
    _, out = _feed_in_chunks(data, cuts, max_frame_bytes=64 * 1024)
    assert all(isinstance(item, (Frame, MalformedFrame)) for item in out)


@given(AMI_BYTES, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_ami_decoder_gives_the_same_frames_however_the_socket_splits_the_bytes(data, cuts):
    whole = Decoder(max_frame_bytes=64 * 1024)
    expected = _shape(whole.feed(data))
    split, out = _feed_in_chunks(data, cuts, max_frame_bytes=64 * 1024)
    assert _shape(out) == expected
    assert split.banner == whole.banner


@given(AMI_BYTES, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_ami_decoder_memory_stays_bounded_by_the_frame_limit(data, cuts):
    decoder, out = _feed_in_chunks(data * 4, cuts, max_frame_bytes=64)
    assert len(decoder._buf) <= 64 + 2  # an oversize frame is dropped, never buffered whole
    for item in out:
        if isinstance(item, Frame):
            assert sum(len(k) + len(v) + 2 for k, v in item.headers) <= 64 + 2


HEADER_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=":\r\n\0"),
                      min_size=1, max_size=20).filter(lambda k: k == k.strip())
HEADER_VALUE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"), max_size=60)


@given(HEADER_NAME, st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=8),
       st.text(st.characters(whitelist_categories=("Ll", "Nd")), min_size=1, max_size=12))
def test_ami_serialized_actions_decode_to_exactly_their_headers(name, headers, action_id):
    wire = serialize_action(name, headers, action_id)
    frames = Decoder().feed(b"Asterisk Call Manager/11.0.0\r\n" + wire)
    assert len(frames) == 1 and isinstance(frames[0], Frame)
    assert frames[0].headers == [("Action", name), ("ActionID", action_id), *headers]


@given(st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=4), st.integers(min_value=0, max_value=3),
       st.sampled_from(["\r", "\n", "\0", "\r\n", "\r\n\r\nAction: Originate"]), st.data())
def test_ami_serializer_refuses_line_breaks_anywhere(headers, where, bad, data):
    """Header injection (FreePBX CVE-2026-73665's shape): a CR, LF or NUL in a name or a value
    is refused, never written."""
    headers = list(headers) or [("Channel", "PJSIP/1001")]
    i = data.draw(st.integers(min_value=0, max_value=len(headers) - 1))
    key, value = headers[i]
    action, action_id = "Originate", "a-1"
    if where == 0:
        action += bad
    elif where == 1:
        action_id += bad
    elif where == 2:
        headers[i] = (key + bad, value)
    else:
        headers[i] = (key, value + bad)
    with pytest.raises(HeaderInjection):
        serialize_action(action, headers, action_id)


# -- FastAGI -----------------------------------------------------------------------------
AGI_PIECES = st.sampled_from([b"agi_network: yes\n", b"agi_request: agi://127.0.0.1/route?x=1\n",
                              b"agi_network_script: route\n", b"agi_callerid: 13800000001\n", b"\n",
                              b"agi_", b": ", b"\r\n", b"\xc3\x28", b"agi_arg_1: a\n", b"x"])
AGI_BYTES = st.one_of(st.binary(max_size=400), st.lists(AGI_PIECES, max_size=30).map(b"".join))


@given(AGI_BYTES)
def test_agi_request_parser_answers_or_refuses_never_crashes(data):
    try:
        env, rest = agi.parse_env(data)
    except agi.AgiProtocolError:
        return
    if env is None:
        assert rest == data
    else:
        assert all(key.startswith("agi_") for key in env)
        request = agi.AgiRequest(env)  # every header the parser accepts makes a request
        assert isinstance(request.script, str)


@given(st.lists(st.tuples(st.text(st.characters(whitelist_categories=("Ll",)), min_size=1, max_size=10),
                          st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                                  max_size=30)), min_size=1, max_size=8),
       st.integers(min_value=1, max_value=50))
def test_agi_request_header_parses_the_same_when_it_arrives_in_pieces(pairs, step):
    header = b"".join(f"agi_{k}: {v}\n".encode() for k, v in pairs) + b"\n"
    whole, _ = agi.parse_env(header)
    assert whole == {f"agi_{k}": v for k, v in pairs}
    for cut in range(0, len(header) - 1, step):
        env, rest = agi.parse_env(header[:cut])
        assert env is None and rest == header[:cut]


@given(st.binary(max_size=300))
def test_agi_response_parser_answers_or_refuses_never_crashes(block):
    try:
        response = agi.parse_response(block)
    except agi.AgiProtocolError:
        return
    assert isinstance(response.code, int)


@given(st.sampled_from(["SET VARIABLE", "EXEC", "STREAM FILE", "GET DATA"]),
       st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
                          st.integers(), st.floats(allow_nan=False, allow_infinity=False)), max_size=4))
def test_agi_commands_are_one_line_whatever_the_arguments(command, args):
    """Channel data (a caller name, a CRM field) can never split into a second command."""
    try:
        line = agi.format_command(command, *args)
    except agi.AgiProtocolError as exc:
        assert exc.code in ("agi.injection", "agi.command_too_long")
        assert exc.code != "agi.injection" or any(c in str(a) for a in args for c in "\r\n\0")
        return
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b"\r" not in line and b"\0" not in line
    # each argument is one quoted word: unquote them back
    text = line.decode()[len(command):].strip("\n")
    words, i = [], 0
    while i < len(text):
        assert text[i] == " " and text[i + 1] == '"'
        i += 2
        word = []
        while text[i] != '"':
            if text[i] == "\\":
                i += 1
            word.append(text[i])
            i += 1
        words.append("".join(word))
        i += 1
    assert words == [str(a) for a in args]
