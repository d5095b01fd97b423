"""Proves the image boots to the technician's console on ttyS0 and runs the appliance:
the first admin password read off the sign-in screen signs in, the health summary
answers, the supervisor reports Asterisk running, Asterisk answers over AMI, and the web
UI answers /api/health over HTTPS on the guest's address (qemu user networking, forwarded
to the host's loopback) with the certificate whose fingerprint the console showed, while
plain HTTP only redirects; the appliance runs as its own account and Asterisk as
``asterisk``, with no secret file readable by other accounts (as health reports them); the
sign-in screen then shows the DHCP address.

Boots the image ``make image`` made (build/image/callcenter-appliance.raw) in qemu's
software emulation, BIOS firmware (syslinux); ``BOOT_FIRMWARE=uefi`` boots it through
OVMF and systemd-boot instead; ``BOOT_IMAGE`` names another image file.  Timings go to tests/artifacts/boot/timings.json.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from image_build.image import IMAGE_NAME
from image_build.qemu import boot

# Its own steps have their timeouts; the suite's 300 s per test (pyproject) is for the other
# tiers: a boot under software emulation on a loaded machine takes longer.
pytestmark = [pytest.mark.boot, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
# BOOT_IMAGE: another image file; BOOT_IMAGE_DIR: another build's image folder
# (python -m image_build.image --build-dir X: X/image)
IMAGE = Path(os.environ.get("BOOT_IMAGE") or Path(os.environ.get("BOOT_IMAGE_DIR", REPO / "build" / "image"))
             / f"{IMAGE_NAME}.raw")
ARTIFACTS = REPO / "tests" / "artifacts" / "boot"
BOOT_TIMEOUT = 300  # seconds to the console's sign-in prompt; CI machines are shared


def test_image_boots_to_the_console_and_the_web_ui(tmp_path):
    if not IMAGE.exists():
        pytest.fail(f"{IMAGE} is missing: run `make image` first (make boot-test does)")
    firmware = os.environ.get("BOOT_FIRMWARE", "bios")
    timings = {"firmware": firmware}
    with boot(IMAGE, ARTIFACTS / f"serial-{firmware}.log", firmware=firmware, workdir=tmp_path) as vm:
        # the console's sign-in screen: the certificate's fingerprint, and on a fresh box the
        # first admin password
        fingerprint = vm.expect(r"HTTPS certificate SHA-256 \(check it in the browser\): ([0-9A-F:]{95})",
                                BOOT_TIMEOUT).group(1)
        password = vm.expect(r"First admin account: user admin, password (\S+) ", 30).group(1)
        vm.expect(r"login: ", 30)
        timings["console_prompt_s"] = round(vm.elapsed, 1)
        vm.sign_in("admin", password)

        vm.type("health")
        vm.expect(r"System health", 60)
        vm.expect(r"Uptime\s+\S+", 30)
        vm.expect(r"Memory\s+\S+ \S+ free of", 30)
        # the data partition grew from 256 MiB to the end of the 6 GiB disk at first boot (the
        # ESP and the two 2 GiB root slots before it)
        data_size = vm.expect(r"Disk /var/lib/appliance\s+\S+ \S+ of (\d+\.\d) GiB used", 30).group(1)
        assert float(data_size) > 1.4, f"the data filesystem was not grown to the disk: {data_size} GiB"
        vm.expect(r"console> ", 30)

        # the supervisor's status: Asterisk up (the appliance may still be starting: ask again)
        for _ in range(60):
            vm.type("services")
            text = vm.expect(r"(?s)(Services: |No status from the supervisor).*?console> ", 60).group(0)
            if re.search(r"\n\s+asterisk\s+running\s", text):
                break
            time.sleep(3)
        else:
            pytest.fail(f"the supervisor never reported Asterisk running; last page:\n{text}")
        timings["asterisk_running_s"] = round(vm.elapsed, 1)

        vm.type("calls")
        page = vm.expect(r"(?s)(Trunk registrations|Asterisk not answering).*?console> ", 60).group(0)
        assert page.startswith("Trunk registrations"), page
        assert "Active channels: " in page

        health = vm.wait_http_json("/api/health", 120, https=True,
                                   accept=lambda status, data: data["components"]["ami"]["up"])
        timings["web_ui_health_s"] = round(vm.elapsed, 1)
        assert vm.certificate_fingerprint() == fingerprint  # the console told the truth
        status, _, headers = vm.http_get("/api/health")  # plain HTTP only redirects
        assert status == 301 and headers["Location"].startswith("https://"), (status, headers)
        assert health["components"]["asterisk"]["up"], health
        assert health["components"]["db"]["up"], health
        assert health["status"] in ("ok", "degraded"), health
        # least privilege: the appliance runs as its own account, Asterisk as asterisk, and no
        # file holding a secret (appliance.db and its WAL files, secrets.json, the TLS key,
        # the generated pjsip.conf and manager.conf) is readable by other accounts
        assert health["process"]["user"] == "appliance", health["process"]
        assert health["components"]["asterisk"]["user"] == "asterisk", health["components"]["asterisk"]
        assert health["process"]["world_readable"] == [], health["process"]

        vm.type("network")
        vm.expect(r"10\.0\.2\.15/24", 30)
        vm.type("logout")
        vm.expect(r"Signed out", 30)
        vm.expect(r"Web UI: https://10\.0\.2\.15/", 60)  # the DHCP address, on the next sign-in screen
        vm.expect(r"login: ", 30)
        vm.type("admin", password)
        vm.expect(r"Signed in as admin", 60)
        vm.type("logout")
        vm.expect(r"Signed out", 30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"timings-{firmware}.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(timings)
