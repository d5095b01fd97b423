"""Proves the image recipe is consistent without building it: the hashed Python lock
agrees with pyproject's pins, the image carries the test rootfs's Asterisk packages,
the overlay's units and settings are the ones the build enables and the appliance
loads, the steps run in their order, and partitions are placed without filling holes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from appliance import settings as settings_mod
from image_build import image, qemu
from image_build import rootfs as test_rootfs

REPO = Path(__file__).resolve().parents[2]


def _pins(lines):
    pins = {}
    for line in lines:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_the_hashed_lock_pins_what_pyproject_pins_and_every_line_has_a_hash():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"])
    lines = [ln for ln in image.REQUIREMENTS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    locked = _pins(lines)
    assert {k: locked.get(k) for k in wanted} == wanted
    assert all(re.search(r"--hash=sha256:[0-9a-f]{64}$", ln) for ln in lines), lines


def test_the_image_carries_the_test_rootfs_asterisk_and_boots():
    packages = image.base_packages()
    assert set(test_rootfs.PACKAGES) <= set(packages)
    for needed in ("linux-image-amd64", "systemd-sysv", "login", "python3-venv", "systemd-boot-efi", "dahdi"):
        assert needed in packages
    argv = image.base_argv(Path("/tmp/x"))
    assert argv[0] == "mmdebstrap" and argv[-2:] == [test_rootfs.SUITE, "/tmp/x"]
    assert any("--require-hashes" in a for a in argv)
    consoles = [o for o in image.KERNEL_OPTIONS.split() if o.startswith("console=")]
    assert consoles[-1] == "console=ttyS0,115200n8"  # the last one is /dev/console


def test_steps_are_named_in_order():
    names = [s.run.__name__ for s in image.STEPS]
    assert names[:2] == ["step_base", "step_stage"] and names[-1] == "step_compress"
    assert names.index("step_overlay") > names.index("step_app")  # the overlay has the last word
    assert all(s.name and s.run.__doc__ for s in image.STEPS)


def test_overlay_has_the_units_the_build_enables_and_settings_the_appliance_loads():
    systemd = REPO / "rootfs/etc/systemd/system"
    for unit in image.ENABLE_UNITS:
        if unit.startswith("serial-getty@"):
            assert (systemd / f"{unit}.d/appliance-console.conf").exists()
        else:
            assert (systemd / unit).exists(), unit
    launcher = REPO / "rootfs/usr/local/sbin/appliance-console"
    assert launcher.stat().st_mode & 0o111
    s = settings_mod.load(REPO / "rootfs/etc/appliance/appliance.conf")
    assert s.rootfs == "" and s.serial_device == "" and s.lan_interface == "eth0"
    assert s.data_dir == Path("/var/lib/appliance")
    # in the data directory (the appliance cannot write /etc); /etc/dahdi/system.conf links to it
    assert s.dahdi_system_conf_path == Path("/var/lib/appliance/dahdi/system.conf")
    assert s.web_port == qemu.GUEST_WEB_PORT and s.web_https_port == qemu.GUEST_HTTPS_PORT
    service = (systemd / "appliance.service").read_text()
    assert "/etc/appliance/appliance.conf" in service and "appliance-firstboot.service" in service
    assert (s.service_user, s.asterisk_user) == (image.SERVICE_USER, image.ASTERISK_USER)


def _directives(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_every_unit_is_sandboxed_and_the_appliance_runs_as_its_own_account():
    systemd = REPO / "rootfs/etc/systemd/system"
    units = {"appliance.service": systemd / "appliance.service",
             "appliance-firstboot.service": systemd / "appliance-firstboot.service",
             "serial-getty@ttyS0.service": systemd / "serial-getty@ttyS0.service.d/appliance-console.conf"}
    for name, path in units.items():
        d = _directives(path.read_text())
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                           ("ProtectHome", "yes")):
            assert d.get(key) == value, (name, key)
        assert d["ReadWritePaths"].split()[0] == "/var/lib/appliance", name
    app = _directives(units["appliance.service"].read_text())
    assert (app["User"], app["Group"], app["SupplementaryGroups"]) == ("appliance", "appliance", "asterisk")
    caps = set(app["AmbientCapabilities"].split())
    assert caps == set(app["CapabilityBoundingSet"].split())
    assert caps == {"CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"}
    assert "CAP_SYS_ADMIN" not in caps and "CAP_DAC_OVERRIDE" not in caps
    first = _directives(units["appliance-firstboot.service"].read_text())
    assert set(first["CapabilityBoundingSet"].split()) == {"CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE",
                                                           "CAP_DAC_READ_SEARCH"}


def test_partitions_are_placed_sparsely(tmp_path):
    src = tmp_path / "part.img"
    src.write_bytes(b"\0" * image.MIB + b"data" + b"\0" * (image.MIB - 4))
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(8 * image.MIB)
    image._place(src, disk, 4 * image.MIB)
    body = disk.read_bytes()
    assert body[5 * image.MIB:5 * image.MIB + 4] == b"data"
    assert body.count(0) == len(body) - 4
    assert disk.stat().st_blocks * 512 <= 2 * image.MIB  # the zero MiB stayed a hole


def test_stable_partition_ids_and_a_loopback_only_forward(tmp_path):
    a, b = image.Context(tmp_path), image.Context(tmp_path)
    assert a.uuid("root") == b.uuid("root") != a.uuid("esp")
    argv = qemu.qemu_argv(Path("/x.raw"), 12345, 12346)
    assert "file=/x.raw,format=qcow2,if=virtio" in argv  # an overlay: the image is never written
    assert "user,id=lan,hostfwd=tcp:127.0.0.1:12345-:80,hostfwd=tcp:127.0.0.1:12346-:443" in argv


def test_a_kernel_panic_before_user_space_boots_once_more_and_twice_fails(tmp_path, monkeypatch):
    """qemu.boot with a stand-in for qemu: the first 'boot' panics, the second reaches
    systemd; with every boot panicking, the second panic is the test's failure."""
    import pytest

    tries = tmp_path / "tries"

    def fake_argv(disk, web_port, https_port, firmware="bios", vars_file=None, **_):
        script = (f'echo x >> {tries}; if [ $(wc -l < {tries}) -ge "$PANICS_UNTIL" ]; then '
                  'printf "[  1.2] systemd[1]: Started\\n"; exec sleep 30; '
                  'else printf "[  1.7] Kernel panic - not syncing: Fatal exception\\n"; exec sleep 30; fi')
        return ["sh", "-c", script]

    monkeypatch.setattr(qemu, "qemu_argv", fake_argv)
    monkeypatch.setattr(qemu, "make_overlay", lambda image, overlay: None)
    monkeypatch.setenv("PANICS_UNTIL", "2")
    with qemu.boot(tmp_path / "x.raw", tmp_path / "serial.log", workdir=tmp_path, timeout=10) as vm:
        assert vm.process.poll() is None
    assert tries.read_text().count("x") == 2
    assert "Kernel panic" in (tmp_path / "serial.log").read_text()
    tries.unlink()
    monkeypatch.setenv("PANICS_UNTIL", "99")
    with pytest.raises(qemu.KernelPanic):
        qemu.boot(tmp_path / "x.raw", tmp_path / "serial.log", workdir=tmp_path, timeout=10)
    assert tries.read_text().count("x") == 2


def test_the_box_names_itself_in_its_hosts_file_and_ships_no_build_machines_resolver(tmp_path):
    """Asterisk looks the box's own name up for every call (RTP bound to 0.0.0.0) and PJSIP for
    both families when it starts: each must be in /etc/hosts, or the call waits on DNS."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/resolv.conf").symlink_to("/run/systemd/resolve/stub-resolv.conf")  # as a build host may have
    image.write_names(tmp_path)
    hostname = (tmp_path / "etc/hostname").read_text().strip()
    entries = [line.split() for line in (tmp_path / "etc/hosts").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    families = {":" in fields[0] for fields in entries if hostname in fields[1:]}
    assert hostname and families == {False, True}, entries  # IPv4 and IPv6
    resolv = tmp_path / "etc/resolv.conf"
    assert not resolv.is_symlink() and "nameserver" not in resolv.read_text()


def test_a_test_gives_the_guest_a_root_shell_through_smbios_credentials(tmp_path):
    """The boot tests' root shell on ttyS1 is a unit passed as systemd credentials in SMBIOS
    type 11 strings (the image has no such unit); extra qemu options come last."""
    import base64

    shell = qemu.TestShell(tmp_path / "s.sock", tmp_path / "s.log")
    argv = qemu.qemu_argv(Path("/x.raw"), 1, 2, extra=shell.qemu_args())
    assert argv[argv.index("-chardev") + 1].startswith(f"socket,id=testshell,path={tmp_path / 's.sock'},server=on")
    creds = {}
    for value in (argv[i + 1] for i, a in enumerate(argv) if a == "-smbios"):
        name, _, data = value.removeprefix("type=11,value=io.systemd.credential.binary:").partition("=")
        creds[name] = base64.b64decode(data).decode()
    assert "TTYPath=/dev/ttyS1" in creds["systemd.extra-unit.appliance-test-shell.service"]
    assert creds["systemd.unit-dropin.multi-user.target"] == "[Unit]\nWants=appliance-test-shell.service\n"
    assert "-smbios" not in qemu.qemu_argv(Path("/x.raw"), 1, 2)  # a plain boot has no shell


def test_the_after_update_work_is_done_at_build_time_and_marked_done_last():
    """ldconfig.service, the journal catalog's and systemd-update-done.service were about 35 s
    of a loaded qemu boot's critical chain: the build does their work and writes /etc/.updated
    and /var/.updated (systemd-update-done itself), after everything else in step_system."""
    programs = [argv[0] for argv, _, _ in image.UPDATE_DONE]
    assert programs == ["ldconfig", "journalctl", "/usr/lib/systemd/systemd-update-done"]
    import inspect

    source = inspect.getsource(image.step_system)
    assert source.index("UPDATE_DONE") > source.index("write_names(root)")


def test_the_image_starts_nothing_an_appliance_upgraded_by_whole_images_never_uses():
    for unit in ("asterisk.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service"):
        assert unit in image.DISABLE_UNITS
    # static (Debian's getty.target wants getty-static from /usr/lib, where disabling does not
    # reach: it still started five agettys at boot): only a mask keeps them off
    for unit in ("systemd-binfmt.service", "getty-static.service"):
        assert unit in image.MASK_UNITS and unit not in image.DISABLE_UNITS


def test_the_initrd_carries_the_drivers_of_every_disk_an_x86_box_boots_from_and_no_hardware_database():
    """The image's initrd (step_initrd, rootfs/etc/dracut.conf.d) lists its drivers instead of
    Debian's 793 modules: SATA (AHCI, IDE mode), NVMe (and VMD), eMMC, USB disks, virtio, ext4."""
    conf = REPO / "rootfs" / image.DRACUT_CONF
    drivers = {d.replace("-", "_") for d in image.initrd_drivers(conf)}
    for needed in ("ahci", "ata_piix", "sd_mod", "nvme", "vmd", "mmc_block", "sdhci_pci", "xhci_pci", "usb_storage",
                   "uas", "virtio_blk", "virtio_scsi", "mpt3sas", "megaraid_sas", "vmw_pvscsi", "hv_storvsc",
                   "xen_blkfront", "ext4"):
        assert needed in drivers, needed
    omitted = re.search(r'^omit_dracutmodules\+=" ([^"]*) "', conf.read_text(), re.M).group(1).split()
    assert "hwdb" in omitted and "resume" in omitted
    order = [step.run for step in image.STEPS]
    assert order.index(image.step_overlay) < order.index(image.step_initrd) < order.index(image.step_esp)


def test_a_driver_the_initrd_lacks_is_named():
    listing = ("-rw-r--r--   1 root root 28324 Oct 28 15:01 usr/lib/modules/k/kernel/drivers/ata/ahci.ko.xz\n"
               "-rw-r--r--   1 root root 9000 Oct 28 15:01 usr/lib/modules/k/kernel/drivers/mmc/host/sdhci-pci.ko.xz\n"
               "-rw-r--r--   1 root root 9000 Oct 28 15:01 usr/lib/modules/k/kernel/drivers/nvme/host/nvme-core.ko\n")
    assert image.initrd_missing(listing, ["ahci", "sdhci_pci", "nvme", "nvme-core"]) == ["nvme"]
