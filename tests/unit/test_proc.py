import sys
import tempfile
from pathlib import Path

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


# -- untrusted input: limits, nobody, a private folder, the whole group killed ------------------
import os  # noqa: E402
import time  # noqa: E402

import psutil  # noqa: E402
from harness import wait_until  # noqa: E402


def test_a_program_that_spins_is_stopped_by_its_processor_limit():
    started = time.monotonic()
    with pytest.raises(proc.CommandFailed) as info:
        proc.filter_through(["sh", "-c", "while :; do :; done"], b"", what="spin", timeout=30,
                            limits=proc.Limits(cpu_seconds=1))
    assert info.value.limit == "cpu" and "1 s of processor time" in str(info.value)
    assert time.monotonic() - started < 10


def test_a_program_that_writes_too_much_is_stopped_by_its_file_limit():
    with pytest.raises(proc.CommandFailed) as info:
        proc.filter_through(["sh", "-c", 'exec head -c 100000 /dev/zero > "$1"', "sh", "{out}"], b"", what="flood",
                            limits=proc.Limits(file_bytes=4096))
    assert info.value.limit == "file"


def test_a_program_that_allocates_too_much_fails_inside_its_memory_limit():
    grow = "x = bytearray(300 * 1024 * 1024)"
    with pytest.raises(proc.CommandFailed) as info:
        proc.filter_through([sys.executable, "-c", grow], b"", what="grow", limits=proc.Limits(memory_bytes=200 << 20))
    assert "MemoryError" in info.value.output
    assert proc.filter_through([sys.executable, "-c", grow], b"", what="grow") == b""  # the limit made it fail


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a program to nobody")
def test_an_unprivileged_filter_runs_as_nobody_in_its_own_folder():
    out = proc.filter_through(["sh", "-c", 'id -u; echo "$TMPDIR"; pwd; touch "$TMPDIR/mine"'], b"", what="who",
                              unprivileged=True)
    uid, tmpdir, cwd = out.decode().split()
    assert uid == str(proc.UNPRIVILEGED) and tmpdir == cwd and tmpdir.startswith(tempfile.gettempdir() + "/filter-")
    assert not os.path.exists(tmpdir)  # removed afterwards


def test_at_the_timeout_the_whole_group_is_killed_and_the_private_folder_removed():
    result = {}

    def run():
        try:
            proc.filter_through(["sh", "-c", 'echo copy > "$TMPDIR/gs_1234"; sleep 300 & echo $! > "$TMPDIR/pid"; wait'],
                                b"", what="hang", timeout=3)
        except proc.CommandFailed as exc:
            result["error"] = exc

    import threading
    thread = threading.Thread(target=run)
    thread.start()
    folder = wait_until(lambda: next((p for p in Path(tempfile.gettempdir()).glob("filter-*")
                                      if (p / "pid").is_file() and (p / "pid").read_text().strip()), None), 10,
                        "the program's private folder")
    grandchild = int((folder / "pid").read_text())
    assert (folder / "gs_1234").exists()
    thread.join(30)
    assert result["error"].limit == "time" and "no answer within 3 s" in str(result["error"])
    assert not folder.exists()  # the copy of the upload went with it
    wait_until(lambda: not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie", 10,
               "the background child killed with its group")


def test_others_can_run_follows_links_and_folders(tmp_path):
    program = tmp_path / "locked" / "prog"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    tmp_path.chmod(0o755)
    (tmp_path / "link").symlink_to(program)
    program.parent.chmod(0o700)
    assert not proc.others_can_run(tmp_path / "link")
    program.parent.chmod(0o755)
    assert proc.others_can_run(tmp_path / "link") is bool(all(p.stat().st_mode & 1 for p in tmp_path.parents))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become the image's kind of account")
def test_the_images_account_also_hands_untrusted_work_to_nobody():
    """On the image the appliance is not root: it runs as its own account with CAP_SETUID and
    CAP_SETGID effective (kept from children, appliance/privileges.py), a umask of 0007 and
    no right to chown.  Played here with setpriv: uid 1000 with those two capabilities."""
    repo = Path(__file__).resolve().parents[2]
    where = Path(tempfile.mkdtemp(prefix="account-test-"))  # pytest's own folder is root's only
    where.chmod(0o755)
    script = where / "as_account.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(repo)!r})\n"
        "from appliance import privileges, proc\n"
        "privileges.keep_to_ourselves()\n"
        "os.umask(0o007)\n"
        "assert os.geteuid() == 1000 and proc.can_switch_user()\n"
        "out = proc.filter_through(['sh', '-c', 'id -u > \"$1\"; grep CapEff /proc/self/status >> \"$1\";"
        " echo copy > \"$TMPDIR/gs_1\"; echo \"$TMPDIR\" >> \"$1\"', 'sh', '{out}'], b'', what='as nobody',"
        " unprivileged=True, limits=proc.Limits(cpu_seconds=5))\n"
        "print(out.decode())\n")
    script.chmod(0o644)
    try:
        done = run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "--inh-caps=+setuid,+setgid",
                    "--ambient-caps=+setuid,+setgid", sys.executable, str(script)],
                   what="play the image's account", capture=True)
    finally:
        script.unlink()
        where.rmdir()
    uid, caps, folder = done.stdout.split("\n")[:3]
    assert uid == str(proc.UNPRIVILEGED)
    assert caps.split()[1] == "0000000000000000"  # nobody got none of our capabilities
    assert not os.path.exists(folder)  # and its files were ours to delete
