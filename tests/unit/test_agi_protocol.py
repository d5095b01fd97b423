"""The FastAGI codec: request headers, command quoting and injection, responses."""

from __future__ import annotations

import pytest

from appliance.agi.protocol import (
    HANGUP_CODE,
    MAX_COMMAND_BYTES,
    MAX_ENV_BYTES,
    AgiProtocolError,
    AgiRequest,
    AgiResponse,
    format_command,
    parse_env,
    parse_response,
    quote,
    response_needs_more,
)

# What Asterisk 22 sends for AGI(agi://127.0.0.1:4573/route?lang=zh,a1,a 2) (trimmed).
HEADER = (
    b"agi_network: yes\n"
    b"agi_network_script: route?lang=zh&x=\n"
    b"agi_request: agi://127.0.0.1:4573/route?lang=zh&x=\n"
    b"agi_channel: PJSIP/trunk-pstn-00000001\n"
    b"agi_language: en\n"
    b"agi_type: PJSIP\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_version: 22.1.0\n"
    b"agi_callerid: 13912345678\n"
    b"agi_calleridname: \xe5\xbc\xa0\xe4\xb8\x89\n"
    b"agi_callingpres: 0\n"
    b"agi_dnid: 88001000\n"
    b"agi_rdnis: unknown\n"
    b"agi_context: cc-from-trunk\n"
    b"agi_extension: 88001000\n"
    b"agi_priority: 3\n"
    b"agi_enhanced: 0.0\n"
    b"agi_accountcode: \n"
    b"agi_threadid: 140000000000000\n"
    b"agi_arg_1: a1\n"
    b"agi_arg_2: a 2\n"
    b"\n"
)


# -- parse_env -------------------------------------------------------------------------
def test_parses_a_complete_header_and_returns_what_follows():
    env, rest = parse_env(HEADER + b"HANGUP\n")
    assert rest == b"HANGUP\n"
    assert env["agi_channel"] == "PJSIP/trunk-pstn-00000001"
    assert env["agi_calleridname"] == "张三"
    assert env["agi_accountcode"] == ""
    assert env["agi_arg_2"] == "a 2"
    assert len(env) == 21


def test_header_split_at_every_byte_is_incomplete_until_the_blank_line():
    for cut in range(len(HEADER)):
        env, rest = parse_env(HEADER[:cut])
        assert env is None and rest == HEADER[:cut], cut
    env, rest = parse_env(HEADER)
    assert env is not None and rest == b""


def test_header_fed_byte_by_byte_gives_the_same_env():
    buf = b""
    env = None
    for i in range(len(HEADER)):
        buf += HEADER[i:i + 1]
        env, buf = parse_env(buf)
        if env is not None:
            assert i == len(HEADER) - 1
            break
    assert env == parse_env(HEADER)[0]


def test_crlf_lines_are_tolerated():
    env, rest = parse_env(b"agi_request: agi://h/ping\r\nagi_channel: Local/1\r\n\r\nX")
    assert env == {"agi_request": "agi://h/ping", "agi_channel": "Local/1"} and rest == b"X"


@pytest.mark.parametrize("garbage, code", [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "agi.bad_request"),
    (b"GET", "agi.bad_request"),  # rejected before any newline
    (b"\x16\x03\x01\x02\x00\x01", "agi.bad_request"),  # a TLS ClientHello
    (b"agi_channel: x\nchannel: y\n\n", "agi.bad_request"),
    (b"agi_channel x\n\n", "agi.bad_request"),  # no ': '
    (b"agi_channel:x\n\n", "agi.bad_request"),
    (b"\n", "agi.bad_request"),  # empty header
    (b"agi_calleridname: \xff\xfe\n\n", "agi.bad_encoding"),
    (b"agi_x: " + b"a" * MAX_ENV_BYTES, "agi.request_too_large"),
    (b"agi_x: y\n" * (MAX_ENV_BYTES // 9 + 1) + b"\n", "agi.request_too_large"),
])
def test_garbage_is_refused_with_a_stable_code(garbage, code):
    with pytest.raises(AgiProtocolError) as info:
        parse_env(garbage)
    assert info.value.code == code


def test_header_just_under_the_limit_is_accepted():
    line = b"agi_x: " + b"a" * (MAX_ENV_BYTES - 10) + b"\n"
    env, _ = parse_env(line + b"\n")
    assert env is not None and len(line) + 1 < MAX_ENV_BYTES


# -- AgiRequest ------------------------------------------------------------------------
def test_request_fields_from_the_header():
    request = AgiRequest(parse_env(HEADER)[0])
    assert request.script == "route"
    assert request.params == {"lang": "zh", "x": ""}
    assert request.args == ["a1", "a 2"]
    assert request.channel == "PJSIP/trunk-pstn-00000001"
    assert request.uniqueid == "1700000000.1"
    assert request.linkedid == "1700000000.1"  # no agi_linkedid: falls back to the uniqueid
    assert (request.callerid, request.calleridname) == ("13912345678", "张三")
    assert (request.extension, request.context, request.dnid) == ("88001000", "cc-from-trunk", "88001000")


def test_request_uses_linkedid_when_present_and_stops_args_at_the_first_gap():
    request = AgiRequest({"agi_network_script": "/ping", "agi_uniqueid": "2.2", "agi_linkedid": "1.1",
                          "agi_arg_1": "x", "agi_arg_3": "z"})
    assert request.script == "ping" and request.params == {}
    assert request.linkedid == "1.1"
    assert request.args == ["x"]


def test_request_falls_back_to_the_url_without_network_script():
    request = AgiRequest({"agi_request": "agi://127.0.0.1:4573/route?q=sales"})
    assert request.script == "route" and request.params == {"q": "sales"}
    assert AgiRequest({}).script == ""


# -- commands --------------------------------------------------------------------------
def test_format_command_quotes_every_argument():
    assert format_command("SET VARIABLE", "CC_PING", "pong") == b'SET VARIABLE "CC_PING" "pong"\n'
    assert format_command("ANSWER") == b"ANSWER\n"
    assert format_command("STREAM FILE", "hello", "") == b'STREAM FILE "hello" ""\n'
    assert format_command("VERBOSE", "a b", 3) == b'VERBOSE "a b" "3"\n'


def test_quotes_and_backslashes_are_escaped():
    assert quote('say "hi"') == r'"say \"hi\""'
    assert quote("C:\\dir\\") == r'"C:\\dir\\"'
    assert format_command("SET VARIABLE", "N", 'x" "y') == b'SET VARIABLE "N" "x\\" \\"y"\n'
    assert format_command("SET VARIABLE", "N", "张三").decode() == 'SET VARIABLE "N" "张三"\n'


def _asterisk_parse_args(line: str) -> list[str]:
    """res_agi.c parse_args(), transcribed: how Asterisk splits our command line."""
    args: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if cur is None:
                cur = []
        elif ch in " \t" and not quoted and not escaped:
            if cur is not None:
                args.append("".join(cur))
            cur = None
        elif ch == "\\" and not escaped:
            escaped = True
        else:
            cur = (cur or [])
            cur.append(ch)
            escaped = False
    if cur is not None:
        args.append("".join(cur))
    return args


@pytest.mark.parametrize("value", ['plain', 'two words', 'a"b', 'a\\b', '\\', '"', '\\"', '', 'x\\" HANGUP'])
def test_asterisk_reads_back_exactly_the_argument_we_quoted(value):
    line = format_command("SET VARIABLE", "NAME", value).decode().rstrip("\n")
    assert _asterisk_parse_args(line) == ["SET", "VARIABLE", "NAME", value]


@pytest.mark.parametrize("bad", ["evil\nHANGUP", "evil\r\nEXEC System rm", "a\rb", "nul\0byte", "\n"])
def test_cr_lf_nul_in_an_argument_are_refused(bad):
    with pytest.raises(AgiProtocolError) as info:
        format_command("SET VARIABLE", "CC_NAME", bad)
    assert info.value.code == "agi.injection"
    with pytest.raises(AgiProtocolError):
        format_command("SET VARIABLE", bad, "x")


def test_command_names_are_upper_case_words_only():
    for bad in ["set variable", "SET  VARIABLE", "EXEC\n", 'EXEC "x"', ""]:
        with pytest.raises(AgiProtocolError) as info:
            format_command(bad)
        assert info.value.code == "agi.bad_command"


def test_a_command_asterisk_would_split_is_refused():
    head = len(b'SET VARIABLE "N" ""\n')
    assert len(format_command("SET VARIABLE", "N", "x" * (MAX_COMMAND_BYTES - head))) == MAX_COMMAND_BYTES
    with pytest.raises(AgiProtocolError) as info:
        format_command("SET VARIABLE", "N", "x" * (MAX_COMMAND_BYTES - head + 1))
    assert info.value.code == "agi.command_too_long"


def test_arguments_of_other_types_are_a_programming_error():
    for bad in [None, True, b"bytes", ["x"]]:
        with pytest.raises(TypeError):
            format_command("SET VARIABLE", "N", bad)


# -- responses -------------------------------------------------------------------------
@pytest.mark.parametrize("line, expected", [
    (b"200 result=1\n", AgiResponse(200, "1", None)),
    (b"200 result=0\n", AgiResponse(200, "0", None)),
    (b"200 result=1 (timeout)\n", AgiResponse(200, "1", "timeout")),
    (b"200 result=0 (value with spaces)\n", AgiResponse(200, "0", "value with spaces")),
    (b"200 result=1 (a (nested) value)\n", AgiResponse(200, "1", "a (nested) value")),
    (b"200 result=1 ()\n", AgiResponse(200, "1", "")),
    (b"200 result=0 endpos=12345\n", AgiResponse(200, "0", None)),
    (b"200 result=-1 (timeout) endpos=8000\n", AgiResponse(200, "-1", "timeout")),
    (b"200 result=1 (\xe5\xbc\xa0\xe4\xb8\x89)\r\n", AgiResponse(200, "1", "张三")),
    (b"510 Invalid or unknown command\n", AgiResponse(510, "", "Invalid or unknown command")),
    (b"511 Command Not Permitted on a dead channel or intercept routine\n",
     AgiResponse(511, "", "Command Not Permitted on a dead channel or intercept routine")),
    (b"520 Invalid command syntax.  Proper usage not available.\n",
     AgiResponse(520, "", "Invalid command syntax.  Proper usage not available.")),
    (b"HANGUP\n", AgiResponse(HANGUP_CODE, "", "HANGUP")),
])
def test_single_line_responses(line, expected):
    assert not response_needs_more(line)
    assert parse_response(line) == expected


def test_hangup_is_recognised():
    assert parse_response(b"HANGUP\n").is_hangup
    assert parse_response(b"511 Command Not Permitted on a dead channel\n").is_hangup
    assert parse_response(b"200 result=-1\n").is_hangup
    assert not parse_response(b"200 result=1\n").is_hangup
    assert not parse_response(b"510 Invalid or unknown command\n").is_hangup


USAGE = [
    b"520-Invalid command syntax.  Proper usage follows:\n",
    b" Usage: SET VARIABLE <variablename> <value>\n",
    b"  Sets a variable to the current channel.\n",
    b"520 End of proper usage.\n",
]


def test_520_block_needs_more_lines_until_its_end():
    block = b""
    for i, line in enumerate(USAGE):
        block += line
        assert response_needs_more(block) == (i < len(USAGE) - 1), i
    response = parse_response(block)
    assert response.code == 520 and response.result == ""
    assert response.data == " Usage: SET VARIABLE <variablename> <value>\n  Sets a variable to the current channel."


def test_520_block_whose_usage_lacks_a_final_newline():
    block = USAGE[0] + b" Usage: X\n  does x.520 End of proper usage.\n"
    assert not response_needs_more(block)
    assert parse_response(block).data == " Usage: X\n  does x."


def test_unfinished_520_block_is_not_parsed():
    with pytest.raises(AgiProtocolError):
        parse_response(USAGE[0] + USAGE[1])


@pytest.mark.parametrize("line", [b"", b"\n", b"hello\n", b"200\n", b"200 ok\n", b"20 result=1\n",
                                  b"200 result=1 (unclosed\n"])
def test_malformed_responses_are_protocol_errors(line):
    with pytest.raises(AgiProtocolError) as info:
        parse_response(line)
    assert info.value.code == "agi.bad_response"
