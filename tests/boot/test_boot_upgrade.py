"""Proves an upgrade in place on a real disk under UEFI (systemd-boot): a customer written on
v1 is there on v2 after the administrator uploaded v2 in the web UI and confirmed the restart,
with v2's version in /api/health, the same HTTPS certificate and admin password (the data
partition kept); v2 is kept by the boot check; then a broken v3 (its appliance service
fails at once) is uploaded, booted once, not kept, and the box comes back to v2 by itself.
A foreign file is refused first with its reason and nothing written.

v2 and v3 are derived from the one bundle ``make image`` made (image_build/derive.py: the
root filesystem with another version stamp, and for v3 a drop-in that breaks the service
and a 90 s boot check instead of 300 s), not built again.  qemu exits when the guest
restarts (-no-reboot); the test starts it again on the same disk and UEFI variables.
``BOOT_IMAGE_DIR`` names the folder of the image (default build/image).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pytest

from guestweb import GuestWeb, dump_guest
from image_build.derive import derive
from image_build.image import IMAGE_NAME
from image_build.qemu import TestShell, boot

pytestmark = [pytest.mark.boot, pytest.mark.timeout(3600)]

REPO = Path(__file__).resolve().parents[2]
IMAGE_DIR = Path(os.environ.get("BOOT_IMAGE_DIR", REPO / "build" / "image"))
IMAGE = IMAGE_DIR / f"{IMAGE_NAME}.raw"
BUNDLE = IMAGE_DIR / f"{IMAGE_NAME}.upgrade"
ARTIFACTS = REPO / "tests" / "artifacts" / "boot"
# seconds from power-on to a healthy appliance: software emulation on a shared machine (a
# boot took over 7 minutes at a load of 22 on 2 cores)
BOOT_TIMEOUT = 900
WRITE_TIMEOUT = 1800  # upload, check and write of a 2 GiB slot
BROKEN = {"/etc/systemd/system/appliance.service.d/broken.conf": b"[Service]\nExecStart=\nExecStart=/bin/false\n",
          "/etc/systemd/system/appliance-boot-check.service.d/test.conf":
              b"[Service]\nEnvironment=APPLIANCE_BOOT_CHECK_SECONDS=90\n"}


# What the guest says of itself when a step failed (through a root shell on its second serial
# port, given by qemu for the test only): the upgrade's state and its writer's journal, the
# appliance's, the kernel's last words, memory, the busiest processes, pressure stalls
DIAGNOSTICS = ("cat /var/lib/appliance/upgrade/state.json; ls -la /var/lib/appliance/upgrade",
               "journalctl -b -u appliance-upgrade -u appliance-boot-check --no-pager -o short-monotonic | tail -n 200",
               "journalctl -b -u appliance --no-pager -o short-monotonic | tail -n 100",
               "dmesg | tail -n 60",
               "free -m; uptime; ps -eo pid,ni,pcpu,rss,stat,etime,cmd --sort=-pcpu | head -n 20",
               "grep . /proc/pressure/* 2>/dev/null")


class Web(GuestWeb):
    """The guest's web UI as the signed-in administrator, with the upgrade's own calls."""

    def upload(self, path: Path, expect: int = 202) -> dict:
        with open(path, "rb") as f:
            status, raw, _ = self.call("POST", "/api/v1/upgrade", f,
                                       {"Content-Type": "application/octet-stream",
                                        "Content-Length": str(path.stat().st_size)}, timeout=WRITE_TIMEOUT)
        assert status == expect, (status, raw[:500])
        return json.loads(raw)

    def wait_written(self) -> dict:
        deadline = time.monotonic() + WRITE_TIMEOUT
        while time.monotonic() < deadline:
            state = self.json("GET", "/api/v1/upgrade")["upgrade"]
            if state["state"] in ("ready", "failed"):
                assert state["state"] == "ready", state
                return state
            time.sleep(5)
        raise AssertionError(f"the upgrade was not written within {WRITE_TIMEOUT} s: {state}")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `make image` first (make boot-test does)")
    out = tmp_path_factory.mktemp("bundles")
    made = {}
    for name, version, files in (("v2", "2.0.0-test", {}), ("v3", "3.0.0-broken", BROKEN)):
        made[name] = out / f"{name}.upgrade"
        derive(BUNDLE, made[name], version, files)
    return made


def healthy_version(vm, timeout: float = BOOT_TIMEOUT) -> str:
    return vm.wait_http_json("/api/health", timeout, https=True,
                             accept=lambda status, data: status == 200 and data["components"]["ami"]["up"])["version"]


def test_upgrade_keeps_the_data_and_a_broken_version_falls_back(tmp_path, bundles):
    timings = {}
    log = ARTIFACTS / "upgrade"
    started = time.monotonic()

    @contextlib.contextmanager
    def power_on(name: str, fresh: bool = False):
        shell = TestShell(tmp_path / f"{name}.sock", log.with_name(f"upgrade-{name}-shell.log"))
        with boot(IMAGE, log.with_name(f"upgrade-{name}.log"), firmware="uefi", workdir=tmp_path, fresh=fresh,
                  timeout=BOOT_TIMEOUT, extra=shell.qemu_args()) as vm:
            try:
                yield vm
            except BaseException:
                if vm.process.poll() is None:  # the guest still runs: what it says of itself
                    try:
                        shell.connect(timeout=60)
                    except (AssertionError, OSError):
                        pass
                    else:
                        dump_guest(shell, DIAGNOSTICS, log.with_name(f"upgrade-{name}-diagnostics.log"))
                raise
            finally:
                shell.close()

    def restart_into_upgrade(vm, web) -> None:
        web.json("POST", "/api/v1/upgrade/restart", {"confirm": True}, expect=202)
        vm.process.wait(BOOT_TIMEOUT)  # qemu runs with -no-reboot: the guest's restart ends it
        vm.stop()

    with power_on("v1", fresh=True) as vm:
        password = vm.expect(r"First admin account: user admin, password (\S+) ", BOOT_TIMEOUT).group(1)
        v1 = healthy_version(vm)
        fingerprint = vm.certificate_fingerprint()
        web = Web(vm)
        web.sign_in(password)
        witness = web.json("POST", "/api/v1/customers", {"name": "Upgrade witness", "phone": "13912345678"},
                           expect=201)
        assert web.json("GET", "/api/v1/upgrade")["running"] == {"version": v1, "slot": "A"}
        # a foreign file: refused with its reason, nothing asked of the slot writer
        foreign = tmp_path / "foreign.upgrade"
        foreign.write_bytes(os.urandom(256 * 1024))
        assert web.upload(foreign, expect=422)["error"] == "upgrade.not_bundle"
        assert web.json("GET", "/api/v1/upgrade")["upgrade"]["state"] == "idle"
        assert web.upload(bundles["v2"])["version"] == "2.0.0-test"
        written = web.wait_written()
        assert (written["slot"], written["version"]) == ("b", "2.0.0-test")
        timings["v2_written_s"] = round(time.monotonic() - started)
        restart_into_upgrade(vm, web)

    with power_on("v2") as vm:
        vm.expect(r"Boot check: 2\.0\.0-test \(slot B\) is healthy: kept", BOOT_TIMEOUT + 300)
        assert healthy_version(vm) == "2.0.0-test"
        assert vm.certificate_fingerprint() == fingerprint  # the data partition's certificate
        web = Web(vm)
        web.sign_in(password)  # the same admin: the database kept
        found = web.json("GET", "/api/v1/customers?q=Upgrade")["items"]
        assert [c["id"] for c in found] == [witness["id"]]
        assert web.json("GET", "/api/v1/upgrade")["running"] == {"version": "2.0.0-test", "slot": "B"}
        timings["v2_kept_s"] = round(time.monotonic() - started)
        web.upload(bundles["v3"])
        assert web.wait_written()["slot"] == "a"
        restart_into_upgrade(vm, web)

    with power_on("v3") as vm:  # the broken version: booted once, not kept
        vm.expect(r"Boot check: 3\.0\.0-broken \(slot A\) did not answer healthy within 90 s", BOOT_TIMEOUT + 300)
        vm.process.wait(120)
        vm.stop()
    timings["v3_given_up_s"] = round(time.monotonic() - started)

    with power_on("fallback") as vm:  # by itself, back to v2 in slot B
        assert healthy_version(vm) == "2.0.0-test"
        vm.expect(r"Boot check: slot B is not on trial", 120)
        web = Web(vm)
        web.sign_in(password)
        assert [c["id"] for c in web.json("GET", "/api/v1/customers?q=Upgrade")["items"]] == [witness["id"]]
        assert web.json("GET", "/api/v1/upgrade")["running"]["slot"] == "B"
    timings["total_s"] = round(time.monotonic() - started)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings-upgrade.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(timings)
