"""Fixtures for the real tier: the appliance's own services around a real Asterisk."""

from __future__ import annotations

import socket

import pytest

from harness import REPO, free_port, rtp_range


@pytest.fixture(scope="session")
def rootfs():
    """The appliance rootfs (built once by image_build, then cached in build/)."""
    from image_build.rootfs import ensure_rootfs

    return ensure_rootfs(REPO / "build")


def appliance_settings(tmp_path, rootfs, **overrides):
    from appliance import settings

    values = {
        "data_dir": tmp_path / "data",
        "rootfs": str(rootfs),
        "sip_bind": "127.0.0.1",
        "sip_port": free_port(socket.SOCK_DGRAM),
        "ami_port": free_port(),
        "agi_port": free_port(),
        "web_port": 0,
        "rtp_start": 0,
        "rtp_end": 0,
        "log_level": "DEBUG",
        # The call flows' timings (when a SIPp caller speaks or keys) were measured against
        # Asterisk's English core sounds; the tests of the Chinese set ask for zh_CN.
        "caller_language": "en",
        # Outbound calls at any hour, so call flows do not depend on when the suite runs
        # (test_outbound_compliance.py sets a window of its own).
        "calling_window": "",
        # one table of number places for the session's appliances (each would build its own)
        "places_file": str(REPO / "tests" / "artifacts" / "number-places.bin"),
    }
    values["rtp_start"], values["rtp_end"] = rtp_range()
    values.update(overrides)
    return settings.load(None, values)


def _appliances(tmp_path, rootfs):
    from appliance.main import Appliance
    from provisioning import firstboot

    built = []

    def make(**overrides):
        s = appliance_settings(tmp_path, rootfs, **overrides)
        firstboot.run(s)
        app = Appliance(s)
        built.append(app)
        return app

    return make, built


@pytest.fixture
def make_appliance(tmp_path, rootfs):
    """Build (not start) an Appliance; stopped after the test whatever happened."""
    make, built = _appliances(tmp_path, rootfs)
    yield make
    for app in built:
        app.stop()


@pytest.fixture(scope="module")
def make_module_appliance(tmp_path_factory, rootfs):
    """As ``make_appliance``, for one Appliance that a module's tests share (stopped after the module)."""
    make, built = _appliances(tmp_path_factory.mktemp("appliance"), rootfs)
    yield make
    for app in built:
        app.stop()


@pytest.fixture(scope="module")
def basic_appliance(make_module_appliance):
    """One Appliance for a module's tests, configured by ``harness.configure_basic`` (trunk,
    queue sales, DID 88001000, Alice on phone 1001) and started without the web UI. Each test
    changes what it needs through the configuration, as an admin would (names of its own rather
    than the shared ones where it can), and leaves it at rest (``harness.left_idle``)."""
    from harness import configure_basic, started

    app = make_module_appliance()
    configure_basic(app)
    return started(app)
