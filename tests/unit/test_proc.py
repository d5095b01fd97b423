import pytest

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
