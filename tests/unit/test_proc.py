import pytest

from appliance import proc
from appliance.proc import CommandFailed, run


def test_success_and_capture():
    assert run(["echo", "hi"], what="say hi", capture=True).stdout == "hi\n"


def test_failure_says_what_we_were_doing():
    with pytest.raises(CommandFailed, match=r"could not list a missing folder: ls /nonexistent-x exited with 2"):
        run(["ls", "/nonexistent-x"], what="list a missing folder", capture=True)


def test_string_command_refused():
    with pytest.raises(TypeError):
        run("echo hi", what="x")


def test_explicit_environment():
    out = run(["env"], what="env", capture=True, env={"X_TEST": "1"}).stdout
    assert "X_TEST=1" in out and "HOME=" not in out


def test_filter_through_pipes_both_ways():
    assert proc.filter_through(["tr", "a-z", "A-Z"], b"fax page", what="shout") == b"FAX PAGE"


def test_filter_through_failure_carries_the_programs_message():
    with pytest.raises(proc.CommandFailed) as info:
        proc.filter_through(["sh", "-c", "echo broken pdf >&2; exit 3"], b"", what="render a fax")
    assert info.value.returncode == 3 and "broken pdf" in str(info.value) and "render a fax" in str(info.value)


def test_filter_through_timeout_and_size_limit():
    with pytest.raises(proc.CommandFailed, match="no answer within"):
        proc.filter_through(["sleep", "5"], b"", what="wait", timeout=0.2)
    with pytest.raises(proc.CommandFailed, match="larger than"):
        proc.filter_through(["head", "-c", "100", "/dev/zero"], b"", what="flood", max_output=10)


def test_filter_through_reads_back_a_file_the_program_must_seek_in():
    out = proc.filter_through(["sh", "-c", 'cat > "$1"', "sh", "{out}"], b"tiff pages", what="copy")
    assert out == b"tiff pages"
