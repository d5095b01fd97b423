"""The LAN port's settings: validation, the confirm-or-roll-back change, recovery after
the process that changed it died, and the pyroute2 backend on a real veth pair inside a
network namespace made for the test (never the host's own ports)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from appliance.errors import ValidationError
from appliance.i18n import error_text, field_error
from appliance.network import LanChanger, LanConfig, Pyroute2Backend, dhcp_argv, ipv4_addresses, static_config


class Recorder:
    def __init__(self):
        self.applied = []
        self.fail_on = None

    def apply(self, ifname, config, keep_addresses=False):
        self.applied.append(config)
        if config == self.fail_on:
            raise OSError("netlink refused")


@pytest.mark.parametrize("address, gateway, field", [
    ("10.0.0.5", "", "address"),  # no prefix
    ("10.0.0.5/32", "", "address"),
    ("10.0.0.255/24", "", "address"),  # broadcast
    ("banana/24", "", "address"),
    ("10.0.0.5/24", "10.0.1.1", "gateway"),  # not on the network
    ("10.0.0.5/24", "10.0.0.5", "gateway"),  # itself
    ("10.0.0.5/24", "gateway", "gateway"),
])
def test_bad_static_settings_name_the_field(address, gateway, field):
    with pytest.raises(ValidationError) as err:
        static_config(address, gateway)
    assert err.value.code == "network.invalid" and field in err.value.fields


def test_change_confirmed_or_rolled_back(tmp_path):
    backend = Recorder()
    lan = LanChanger(backend, tmp_path, "eth0", confirm_seconds=30, clock=lambda: 1000.0)
    assert lan.current() == LanConfig("dhcp")  # the factory default
    new = static_config("192.168.5.2/24", "192.168.5.1")
    assert lan.apply(new) == 1030.0
    assert json.loads((tmp_path / "pending.json").read_text())["previous"]["mode"] == "dhcp"
    lan.confirm()
    assert lan.current() == new and not (tmp_path / "pending.json").exists()
    assert lan.rollback("late") is None  # nothing pending any more
    lan.apply(LanConfig("dhcp"))
    assert lan.rollback("not confirmed") == new
    assert backend.applied == [new, LanConfig("dhcp"), new] and lan.current() == new


def test_a_failed_change_puts_the_previous_settings_back(tmp_path):
    backend = Recorder()
    lan = LanChanger(backend, tmp_path, "eth0")
    backend.fail_on = bad = static_config("192.168.5.2/24")
    with pytest.raises(OSError):
        lan.apply(bad)
    assert backend.applied == [bad, LanConfig("dhcp")] and lan.current() == LanConfig("dhcp")
    assert not (tmp_path / "pending.json").exists()


def test_a_change_left_by_a_dead_process_is_rolled_back_at_start(tmp_path):
    first = LanChanger(Recorder(), tmp_path, "eth0")
    first.apply(static_config("192.168.5.2/24"))  # ... and the console died here
    backend = Recorder()
    again = LanChanger(backend, tmp_path, "eth0")
    assert again.recover() == LanConfig("dhcp")
    assert backend.applied == [LanConfig("dhcp")] and again.current() == LanConfig("dhcp")
    assert again.recover() is None


def test_no_lan_port_configured_changes_nothing(tmp_path):
    backend = Recorder()
    with pytest.raises(ValidationError, match="no LAN port"):
        LanChanger(backend, tmp_path, "").apply(LanConfig("dhcp"))
    assert backend.applied == []


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (make test runs as root)")
    # iproute2 is one of the Makefile's host packages: its absence is a broken set-up, not a skip
    assert shutil.which("ip"), "iproute2's `ip` is missing: run `make deps` (the Makefile installs it)"
    name = f"cctest-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", "lan0", "type", "veth", "peer", "name", "peer0"],
                       check=True)
        subprocess.run(["ip", "-n", name, "link", "set", "peer0", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_pyroute2_backend_sets_and_clears_a_static_address(netns):
    backend = Pyroute2Backend(netns)
    backend.apply("lan0", static_config("10.77.0.2/24", "10.77.0.1"))
    lan0 = next(i for i in backend.interfaces() if i.name == "lan0")
    assert "10.77.0.2/24" in lan0.addresses and lan0.state in ("UP", "LOWERLAYERDOWN")
    assert backend.default_gateway() == "10.77.0.1"
    backend.apply("lan0", static_config("10.88.0.2/16"))  # replaces, no gateway
    lan0 = next(i for i in backend.interfaces() if i.name == "lan0")
    assert [a for a in lan0.addresses if "." in a] == ["10.88.0.2/16"]
    assert backend.default_gateway() is None
    backend.apply("lan0", LanConfig("dhcp"))  # the static address goes; the DHCP client brings one
    lan0 = next(i for i in backend.interfaces() if i.name == "lan0")
    assert not [a for a in lan0.addresses if "." in a]
    with pytest.raises(ValidationError, match="no network port eth9"):
        backend.apply("eth9", LanConfig("dhcp"))


def test_at_start_the_port_comes_up_and_gets_the_fallback_only_without_a_lease(netns, tmp_path):
    """No DHCP server on the link: bring_up raises the (down) port, and the fallback
    address is added; with an address already there, or in static mode, nothing is added."""
    backend = Pyroute2Backend(netns)
    lan = LanChanger(backend, tmp_path, "lan0")
    assert next(i for i in backend.interfaces() if i.name == "lan0").state == "DOWN"
    assert lan.bring_up() == LanConfig("dhcp")
    assert next(i for i in backend.interfaces() if i.name == "lan0").state in ("UP", "LOWERLAYERDOWN")
    assert lan.add_fallback("192.168.1.250/24") is True
    assert ipv4_addresses(backend.interfaces(), "lan0") == ["192.168.1.250/24"]
    assert lan.add_fallback("192.168.1.250/24") is False  # it has an address now
    # the service restarted in DHCP mode: the address on the port (the lease its client did
    # not release when it stopped) stays for the next client to renew
    assert lan.bring_up() == LanConfig("dhcp")
    assert ipv4_addresses(backend.interfaces(), "lan0") == ["192.168.1.250/24"]
    with pytest.raises(ValidationError):
        LanChanger(backend, tmp_path / "other", "lan0").add_fallback("192.168.1.0/24")
    static = LanChanger(backend, tmp_path / "static", "lan0")
    static._save(static_config("10.9.0.2/24"))
    assert static.bring_up() == static_config("10.9.0.2/24")
    assert ipv4_addresses(backend.interfaces(), "lan0") == ["10.9.0.2/24"]
    assert static.add_fallback("192.168.1.250/24") is False  # static mode: never
    assert LanChanger(backend, tmp_path, "lan0").add_fallback("") is False  # switched off


def test_the_appliance_brings_the_lan_up_then_adds_the_fallback(tmp_path):
    """Appliance._keep_lan with a recording backend: the kept setting first, the fallback
    after lan_fallback_seconds when no address came."""
    from types import SimpleNamespace

    from appliance.main import Appliance
    from appliance.network import Interface

    class Backend(Recorder):
        added = []

        def interfaces(self):
            return [Interface("eth0", "UP", "", tuple(self.added))]

        def add_address(self, ifname, address):
            self.added.append(address)

    backend = Backend()
    fake = SimpleNamespace(settings=SimpleNamespace(network_dir=tmp_path, lan_interface="eth0",
                                                    lan_fallback_seconds=0, lan_fallback_address="10.1.2.3/24"))
    Appliance._keep_lan(fake, backend)
    assert backend.applied == [LanConfig("dhcp")] and backend.added == ["10.1.2.3/24"]


def test_a_bad_address_is_explained_in_the_technicians_language():
    """The serial console shows the error's own sentence from the catalogs (English as the
    API's message, Chinese from its id), and each field's error likewise."""
    with pytest.raises(ValidationError) as caught:
        static_config("10.0.0.0/24")
    assert error_text("en", caught.value) == caught.value.message == (
        "'10.0.0.0/24' needs a prefix between /1 and /31 and a host address")
    assert error_text("zh_CN", caught.value) == "'10.0.0.0/24' 需要 /1 到 /31 之间的前缀，并且是主机地址"
    assert field_error("zh_CN", caught.value.fields["address"]) == "带前缀的主机地址"
    with pytest.raises(ValidationError) as caught:
        static_config("10.0.0.5/24", "10.9.0.1")
    assert error_text("zh_CN", caught.value) == "网关 10.9.0.1 不是 10.0.0.0/24 中的另一个地址"


def test_the_dhcp_client_keeps_its_address_when_it_is_stopped():
    # pyroute2's client, stopped with the appliance's service, removed the leased address and
    # the default route and released the lease: a restart lost the LAN address
    argv = dhcp_argv("lan0")
    assert argv[-1] == "lan0" and "--no-release" in argv
    help_text = subprocess.run([*argv[:3], "--help"], capture_output=True, text=True, check=True).stdout
    assert "--no-release" in help_text  # the installed client knows the option

