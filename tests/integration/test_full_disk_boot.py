"""A full data disk at first boot (issue 6's bad input), on a real full filesystem: a
small tmpfs filled to the last byte (root is needed to mount it, as for the Asterisk tier).

The defined outcome: the first-boot unit stops with a message on the serial console that
names the disk and its free space, leaves no half-written file and marks no step it did
not finish; the technician's console still comes up, says which steps are left and that
nobody can sign in yet, instead of crashing; once space is freed the next start finishes
every step.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import gevent
import pytest

from appliance import settings as settings_mod
from appliance.console.__main__ import build_deps
from appliance.console.session import Console, ConsoleOptions
from appliance.console.terminal import Terminal, open_port
from consolerig import FakeNetwork, Pty
from provisioning import firstboot

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (as the Asterisk tier)")


def _fill(filler: Path) -> None:
    """Write zeros into ``filler`` until the filesystem has no byte left."""
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


@pytest.fixture
def full_disk(tmp_path):
    """A mounted 8 MiB tmpfs and the file that fills it (delete it to free the disk)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)], check=True)
    filler = mount / "filler"
    try:
        _fill(filler)
        yield mount, filler
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _leftovers(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and p.name != "filler" and p.stat().st_size > 0)


def test_a_full_disk_stops_first_boot_cleanly_and_the_next_start_finishes(full_disk, capsys):
    mount, filler = full_disk
    data_dir = mount / "appliance"
    argv = ["--set", f"data_dir={data_dir}"]

    assert firstboot.main(argv) == 1
    printed = capsys.readouterr().out
    assert "first boot could not finish (step_10_secrets)" in printed
    assert str(data_dir) in printed and "is full" in printed and "factory-reset" in printed
    s = settings_mod.load(None, {"data_dir": data_dir})
    assert not s.secrets_path.exists() and not list(data_dir.rglob("*.part"))
    assert _leftovers(data_dir) == []  # nothing half-written, no step marked done
    steps, free_mb = firstboot.unfinished(s)
    assert steps == [step.__name__ for step in firstboot.STEPS] and free_mb == 0

    # the console on the same box: up, telling the technician, refusing sign-in politely
    pty = Pty()
    port = open_port(pty.path, 115200)
    console = Console(Terminal(port), build_deps(s, network=FakeNetwork()),
                      ConsoleOptions(device="ttyS0", lockout_seconds=1.0))
    greenlet = gevent.spawn(console.run_forever)
    try:
        pty.expect(r"First boot is not finished \(steps left: step_10_secrets, step_20_database.*\); "
                   r"the data disk has 0 MiB free")
        pty.expect("login: ")
        pty.type("admin")
        pty.expect("password: ")
        pty.type("anything")
        pty.expect("Sign-in is not possible yet")
        pty.expect("login: ")  # still answering
        assert not greenlet.dead
        assert console.deps.pbx().answering is False
    finally:
        greenlet.kill()
        port.close()
        pty.close()

    filler.unlink()  # the technician freed space
    assert firstboot.main(argv) == 0
    assert "First admin account" in capsys.readouterr().out
    assert firstboot.unfinished(s) is None
    assert set(json.loads(s.secrets_path.read_text())) == {"ami_secret", "web_secret"}


def test_a_disk_that_fills_midway_keeps_the_steps_already_done(full_disk):
    """Secrets fit, the database does not: the secrets step stays done, the database step
    runs again once there is room, and the secrets are not made twice."""
    mount, filler = full_disk
    data_dir = mount / "appliance"
    data_dir.mkdir()
    s = settings_mod.load(None, {"data_dir": data_dir})
    filler.unlink()
    firstboot.step_10_secrets(s)  # as if the first run got this far ...
    (data_dir / "firstboot.done").mkdir()
    (data_dir / "firstboot.done" / "step_10_secrets").write_text("done\n")
    secrets = s.secrets_path.read_text()
    _fill(filler)  # ... and then the disk filled
    with pytest.raises(firstboot.DiskFull) as info:
        firstboot.run(s)
    assert info.value.code == "firstboot.disk_full" and "step_20_database" in str(info.value)
    assert firstboot.unfinished(s)[0] == ["step_20_database", "step_30_admin", "step_40_certificate"]
    filler.unlink()
    assert firstboot.run(s)
    assert s.secrets_path.read_text() == secrets
