"""Upgrades in place without a machine: the bundle ``make image`` makes is read back and a
foreign, damaged or cut-short one refused with its reason; an install writes the other slot
(zeros too, over old data) and makes it the next boot once (systemd-boot's counted entry,
syslinux's default); the boot check keeps a healthy slot and restarts an unhealthy one; the
web UI and API take a bundle (admins only, capped before reading, nothing left of a refused
one), in English and Chinese, and restart only on confirmation.  The same steps on a real
disk in qemu: tests/boot/test_boot_upgrade.py."""

from __future__ import annotations

import glob
import json
import os
import re
import tarfile
from pathlib import Path

import pytest
import webtest

from appliance import slots
from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.services.config import ConfigService
from appliance.services.upgrade import Upgrades
from appliance.services.users import UserService
from appliance.tarfiles import SAFE
from image_build.image import make_bundle
from webharness import Agents
from webdeps import web_deps
from webui.app import make_app

MIB = 1024 * 1024
UNITS = Path(__file__).resolve().parents[2] / "rootfs/etc/systemd/system"
BOOT_CHECK_UNIT = UNITS / "appliance-boot-check.service"
WRITER_UNIT = UNITS / "appliance-upgrade.service"
UUID_A, UUID_B = "11111111-aaaa-4aaa-8aaa-000000000001", "22222222-bbbb-4bbb-8bbb-000000000002"
PASSWORD = "Correct-horse-9"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A bundle of a 4 MiB "root filesystem": data, a MiB of zeros, data."""
    d = tmp_path_factory.mktemp("bundle")
    root = d / "root.img"
    root.write_bytes(b"R" * MIB + bytes(2 * MIB) + b"S" * MIB)
    (d / "vmlinuz").write_bytes(b"kernel v2")
    (d / "initrd.img").write_bytes(b"initrd v2")
    out = d / "callcenter-appliance.upgrade"
    make_bundle(root, d / "vmlinuz", d / "initrd.img", out, {"version": "2.0.0", "kernel_options": "rw quiet"},
                level=1)
    return out, root.read_bytes()


def boot_check_starts(esp, data) -> bool:
    """systemd's verdict on the boot check unit's triggering conditions (``|``: any one), with
    the ESP's /efi and the data partition's /var/lib/appliance at the test's folders."""
    conditions = re.findall(r"^Condition(PathExistsGlob|PathExists)=\|(\S+)$", BOOT_CHECK_UNIT.read_text(), re.M)
    assert conditions, "the boot check starts Python at every boot"

    def here(path):
        for mount, folder in (("/efi/", esp), (f"{slots.DATA_DIR}/", data)):
            if path.startswith(mount):
                return os.path.join(folder, path.removeprefix(mount))
        raise AssertionError(f"{path} is neither on the ESP nor on the data partition")

    return any(glob.glob(here(p)) if kind == "PathExistsGlob" else os.path.exists(here(p)) for kind, p in conditions)


@pytest.mark.parametrize("unit_path", [WRITER_UNIT, BOOT_CHECK_UNIT], ids=["writer", "boot check"])
def test_the_units_that_need_the_esp_for_minutes_keep_it_mounted_from_the_hosts_mount_namespace(unit_path):
    """The ESP is an automount unmounted after 60 s unused, and unmounting it stops a unit that
    requires the mount: the writer minutes into a root slot's write, the boot check while it
    waits for the appliance (both seen in qemu).  systemd opens a descriptor on the ESP in the
    host's mount namespace and hands it over for the unit's whole run: one the writer opened
    itself sat in its private namespace (ProtectSystem=) and never kept the host's mount busy
    (tests/boot/test_boot_upgrade.py writes a real slot and keeps it)."""
    unit = unit_path.read_text()
    assert re.search(rf"^RequiresMountsFor=.*{slots.ESP_DIR}( |$)", unit, re.M)
    held = re.findall(r"^OpenFile=([^:\s]+)(?::[^:\s]*)?(?::(\S+))?$", unit, re.M)
    assert any(Path(path).is_relative_to(slots.ESP_DIR) and "read-only" in options.split(",")
               for path, options in held), held
    # a folder every image's ESP has (image_build/image.py) and the writer never replaces
    assert any(Path(path) == slots.ESP_DIR / "loader" for path, _ in held)


def make_disk(tmp_path, uefi: bool, booted: str = UUID_A) -> slots.Disk:
    esp, parts = tmp_path / "esp", tmp_path / "by-partlabel"
    for sub in ("loader/entries", "syslinux", "slot-a"):
        (esp / sub).mkdir(parents=True)
    parts.mkdir()
    for slot, uuid in (("a", UUID_A), ("b", UUID_B)):
        (parts / f"appliance-root-{slot}").write_bytes(b"\xff" * 6 * MIB)  # an older system's bytes
        (parts / f"appliance-root-{slot}.partuuid").write_text(uuid)
    (esp / "loader/entries/slot-a.conf").write_text(slots.entry_text("a", "1.0.0", 1, "rw quiet", UUID_A))
    (tmp_path / "cmdline").write_text(f"root=PARTUUID={booted} rw quiet\n")
    efi = tmp_path / "efi"
    if uefi:
        efi.mkdir()
    disk = slots.Disk(esp=esp, partitions=parts, cmdline=tmp_path / "cmdline", efi=efi)
    slots.write_syslinux(disk, "a")
    return disk


def test_a_bundle_reads_back_and_every_bad_one_is_refused_with_its_reason(bundle, tmp_path, monkeypatch):
    path, _ = bundle
    manifest = slots.read_bundle(path)
    assert manifest["version"] == "2.0.0" and manifest["format"] == slots.BUNDLE_FORMAT
    assert set(manifest["files"]) == {"vmlinuz", "initrd.img", "root.img.gz"}

    def refused(data: bytes) -> str:
        bad = tmp_path / "bad.upgrade"
        bad.write_bytes(data)
        with pytest.raises(slots.BundleRefused) as caught:
            slots.read_bundle(bad)
        assert caught.value.fields["bundle"].msgid == f"error.code.{caught.value.code}"
        return caught.value.code

    raw = path.read_bytes()
    assert refused(b"MZ" + os.urandom(4096)) == "upgrade.not_bundle"
    assert refused(raw[:len(raw) // 2]) == "upgrade.truncated"
    at = raw.index(b"kernel v2")
    assert refused(raw[:at] + b"kernel v3" + raw[at + 9:]) == "upgrade.checksum"
    # a tar that is not ours: no manifest first
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(path, arcname="something.bin")
    assert refused(other.read_bytes()) == "upgrade.not_bundle"
    # ours, of a later format this version cannot read
    parts = tmp_path / "parts"
    parts.mkdir()
    with tarfile.open(path) as tar:
        tar.extractall(parts, **SAFE)
    monkeypatch.setattr(slots, "BUNDLE_FORMAT", "callcenter-appliance-upgrade/9")
    later = tmp_path / "later.upgrade"
    slots.write_bundle(later, {"version": "9.0.0"}, {name: parts / name for name in slots.BUNDLE_FILES})
    monkeypatch.undo()
    assert refused(later.read_bytes()) == "upgrade.format"


@pytest.mark.parametrize("uefi", [True, False], ids=["uefi", "bios"])
def test_install_writes_the_other_slot_and_boots_it_once_and_the_boot_check_decides(bundle, tmp_path, uefi):
    path, root = bundle
    disk = make_disk(tmp_path, uefi)
    data = tmp_path / "data"
    assert not boot_check_starts(disk.esp, data)  # a box never upgraded: nothing to decide, no Python
    done = slots.install(path, disk)
    assert done["slot"] == "b"
    assert boot_check_starts(disk.esp, data)  # slot B's entry counts its try
    written = (disk.partitions / "appliance-root-b").read_bytes()
    assert written[:len(root)] == root  # the zeros written over the older system's bytes too
    assert (disk.partitions / "appliance-root-a").read_bytes() == b"\xff" * 6 * MIB  # the running slot untouched
    assert (disk.esp / "slot-b/vmlinuz").read_bytes() == b"kernel v2"
    entries = disk.entries()
    assert entries["b"][0].name == "slot-b+1.conf" and entries["b"][1] == 1  # one try
    text = entries["b"][0].read_text()
    assert f"root=PARTUUID={UUID_B} rw quiet" in text and "version 2\n" in text  # newer than slot A's 1
    syslinux = disk.esp / "syslinux/syslinux.cfg"
    assert f"DEFAULT slot-{'a' if uefi else 'b'}\n" in syslinux.read_text()  # BIOS: syslinux boots it next

    # booted into B, on trial (systemd-boot has counted the try down on UEFI)
    (tmp_path / "cmdline").write_text(f"root=PARTUUID={UUID_B} rw\n")
    if uefi:
        entries["b"][0].rename(entries["b"][0].with_name("slot-b+0-1.conf"))
    with pytest.raises(slots.BundleRefused) as caught:
        slots.install(path, disk)  # not while on trial
    assert caught.value.code == "upgrade.on_trial"
    # the restart into it: the appliance stopped, then its database copied (WAL and all)
    (data / slots.UPGRADE_DIR).mkdir(parents=True)
    (data / "appliance.db").write_bytes(b"as v1 left it")
    (data / "appliance.db-wal").write_bytes(b"v1's last commits")
    stopped, rebooted = [], []
    (data / slots.UPGRADE_DIR / slots.REBOOT_REQUEST).write_text("admin\n")
    slots.serve_requests(data, disk, reboot=lambda: rebooted.append(0),
                         stop_appliance=lambda: stopped.append(len(rebooted)))
    assert stopped == [0] and rebooted == [0]  # stopped before the copy and the restart
    rebooted.clear()
    (data / "appliance.db").write_bytes(b"migrated by v2")  # what the version on trial did to it
    (data / "appliance.db-wal").unlink()
    now = [0.0]

    def unhealthy_clock():
        return now[0]

    def pause(seconds):
        now[0] += seconds
        if not uefi:  # BIOS: the old slot is already the next boot while this one is on trial
            assert "DEFAULT slot-a\n" in syslinux.read_text()

    assert slots.boot_check(disk, 60, check=lambda: False, reboot=lambda: rebooted.append(1), clock=unhealthy_clock,
                            pause=pause, data_dir=data, stop_appliance=lambda: stopped.append(1)) == "fallback"
    assert rebooted == [1] and now[0] >= 60 and stopped == [0, 1]
    # the old version gets the database it can open; the trial's is kept aside
    assert (data / "appliance.db").read_bytes() == b"as v1 left it"
    assert (data / "appliance.db-wal").read_bytes() == b"v1's last commits"
    assert (data / slots.UPGRADE_DIR / slots.FAILED_TRIAL / "appliance.db").read_bytes() == b"migrated by v2"
    state = json.loads((data / slots.UPGRADE_DIR / slots.STATE).read_text())
    assert state["state"] == "failed" and state["msgid"] == "error.code.upgrade.not_kept"  # the page says so
    assert disk.entries()["b"][1] is not None  # not kept: systemd-boot sorts it last, syslinux boots A
    (data / slots.UPGRADE_DIR / slots.REBOOT_REQUEST).write_text("admin\n")  # tried again: this time healthy
    slots.serve_requests(data, disk, reboot=lambda: None, stop_appliance=lambda: None)
    assert slots.boot_check(disk, 60, check=lambda: True, reboot=lambda: rebooted.append(2), data_dir=data) == "kept"
    assert not (data / slots.UPGRADE_DIR / slots.SNAPSHOT).exists()  # kept: the copy is not needed
    assert disk.entries()["b"][0].name == "slot-b.conf" and rebooted == [1]
    assert "DEFAULT slot-b\n" in syslinux.read_text() or uefi
    assert slots.boot_check(disk, 60, check=lambda: False, reboot=lambda: rebooted.append(3),
                            data_dir=data) == "kept"  # no trial: nothing to decide
    assert rebooted == [1]
    assert not (data / slots.UPGRADE_DIR / slots.STATE).exists()  # kept: nothing to say any more
    assert not boot_check_starts(disk.esp, data)  # and the unit is skipped, as the check had nothing to do
    # a restart whose new kernel never came up: the firmware came back to B, the page says so
    (data / slots.UPGRADE_DIR / slots.STATE).write_text(json.dumps({"state": "restarting", "slot": "a",
                                                                     "version": "3.0.0"}))
    assert boot_check_starts(disk.esp, data)
    slots.boot_check(disk, 60, check=lambda: True, reboot=lambda: rebooted.append(4), data_dir=data)
    state = json.loads((data / slots.UPGRADE_DIR / slots.STATE).read_text())
    assert (state["state"], state["params"]["version"], rebooted) == ("failed", "3.0.0", [1])


def test_a_write_stopped_by_the_system_says_so_instead_of_writing_for_ever(bundle, tmp_path, monkeypatch):
    import signal

    path, _ = bundle
    disk = make_disk(tmp_path, uefi=True)
    data = tmp_path / "data"
    (data / slots.UPGRADE_DIR).mkdir(parents=True)
    (data / slots.UPGRADE_DIR / slots.STAGED).write_bytes(path.read_bytes())
    (data / slots.UPGRADE_DIR / slots.INSTALL_REQUEST).write_text("admin\n")
    inflate = slots._inflate

    def stopped_midway(chunks):
        for i, piece in enumerate(inflate(chunks)):
            if i == 1:
                os.kill(os.getpid(), signal.SIGTERM)  # systemd stopping the service
            yield piece

    monkeypatch.setattr(slots, "_inflate", stopped_midway)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(slots.Stopped):
        slots.serve_requests(data, disk, reboot=lambda: None, stop_appliance=lambda: None)
    state = json.loads((data / slots.UPGRADE_DIR / slots.STATE).read_text())
    assert (state["state"], state["msgid"]) == ("failed", "error.code.upgrade.interrupted")
    assert "b" not in disk.entries()  # the half-written slot is never booted
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.fixture
def web(tmp_path, bundle):
    db = open_database(tmp_path / "web.db")
    migrate(db)
    users = UserService(db)
    disk = make_disk(tmp_path, uefi=True)
    upgrades = Upgrades(tmp_path / "data", disk=disk, version=lambda: "1.0.0")
    (tmp_path / "data").mkdir()
    deps = web_deps(db=db, config=ConfigService(db), users=users, agents=Agents(), health=lambda: {},
                    live=lambda: {}, extra={"upgrades": upgrades})
    app = webtest.TestApp(make_app(deps))
    tokens = {}
    for name, role, lang in (("admin", "admin", "en"), ("admin_zh", "admin", "zh_CN"), ("sup", "supervisor", "en")):
        uid = users.create(name, PASSWORD, role, language=lang)["id"]
        tokens[name] = {"Authorization": "Bearer " + users.create_token(uid, "test")}
    yield type("Web", (), {"app": app, "tokens": tokens, "folder": tmp_path / "data/upgrade", "disk": disk,
                           "upgrades": upgrades})
    db.close()


def post_bundle(web, data: bytes, who="admin", **kw):
    return web.app.post("/api/v1/upgrade", data, headers={**web.tokens[who], "Content-Type": "application/octet-stream"},
                        expect_errors=True, **kw)


def test_the_api_takes_a_good_bundle_and_refuses_a_bad_one_leaving_nothing(web, bundle):
    path, _ = bundle
    raw = path.read_bytes()
    assert post_bundle(web, raw, who="sup").status_int == 403
    at = raw.index(b"initrd v2")
    bad = post_bundle(web, raw[:at] + b"initrd v0" + raw[at + 9:])
    assert bad.status_int == 422 and bad.json["error"] == "upgrade.checksum", bad.json
    assert bad.json["params"] == {"part": "initrd.img"}
    assert sorted(p.name for p in web.folder.iterdir()) == []  # nothing kept, nothing asked of the root side
    assert web.app.get("/api/v1/upgrade", headers=web.tokens["admin"]).json["upgrade"]["state"] == "idle"

    good = post_bundle(web, raw)
    assert good.status_int == 202 and good.json["version"] == "2.0.0"
    assert sorted(p.name for p in web.folder.iterdir()) == [slots.INSTALL_REQUEST, slots.STAGED]
    status = web.app.get("/api/v1/upgrade", headers=web.tokens["admin"]).json
    assert status == {"running": {"version": "1.0.0", "slot": "A"}, "upgrade": {"state": "writing", "done": 0,
                                                                               "total": 0}}
    assert post_bundle(web, raw).json["error"] == "upgrade.busy"
    # the root side (appliance-upgrade.service) writes it, then restarts when asked
    rebooted = []
    slots.serve_requests(web.folder.parent, web.disk, reboot=lambda: rebooted.append(1), stop_appliance=lambda: None)
    state = web.app.get("/api/v1/upgrade", headers=web.tokens["admin"]).json["upgrade"]
    assert state["state"] == "ready" and state["slot"] == "b" and state["version"] == "2.0.0"
    assert not (web.folder / slots.STAGED).exists() and rebooted == []
    refused = web.app.post_json("/api/v1/upgrade/restart", {}, headers=web.tokens["admin"], expect_errors=True)
    assert refused.status_int == 422 and not (web.folder / slots.REBOOT_REQUEST).exists()
    assert web.app.post_json("/api/v1/upgrade/restart", {"confirm": True}, headers=web.tokens["admin"]).status_int == 202
    slots.serve_requests(web.folder.parent, web.disk, reboot=lambda: rebooted.append(1), stop_appliance=lambda: None)
    assert rebooted == [1]


def test_only_a_newer_version_is_taken(web, bundle):
    """The running version or an older release is refused (an older one cannot open the
    database this one migrated), translated; another build of the same release and anything
    over a development copy pass."""
    for offered, running, taken in (("2.0.0", "1.0.0", True), ("2.0.0-test", "0.1.0+g1234567890", True),
                                    ("3.0.0-broken", "2.0.0-test", True), ("0.1.0+gbbb", "0.1.0+gaaa", True),
                                    ("1.9", "1.10", False), ("1.10", "1.9", True), ("1.9.9", "2.0.0", False), ("nightly", "1.0.0", False),
                                    ("1.0.0", "development", True), ("1.0.0", "unknown", True)):
        try:
            slots.refuse_not_newer(offered, running)
        except slots.BundleRefused as exc:
            assert not taken and exc.code == "upgrade.not_newer", (offered, running)
        else:
            assert taken, (offered, running)
    path, _ = bundle
    web.upgrades.version = lambda: "2.0.0"
    same = post_bundle(web, path.read_bytes())
    assert same.status_int == 422 and same.json["error"] == "upgrade.not_newer"
    assert same.json["params"] == {"version": "2.0.0", "running": "2.0.0"}
    assert list(web.folder.iterdir()) == []  # nothing kept, nothing asked of the root side
    from appliance.i18n import error_text
    with pytest.raises(slots.BundleRefused) as caught:
        web.upgrades.receive_file(path, "admin")
    assert "only a newer version can be installed" in error_text("en", caught.value)
    assert "只能安装更新的版本" in error_text("zh_CN", caught.value)


def test_a_body_over_the_cap_is_refused_before_it_is_read(web, monkeypatch):
    from webui.areas import upgrade as area
    assert area.BUNDLE_BODY_LIMIT == 2 * 1024 ** 3
    answer = web.app.post("/api/v1/upgrade", b"x", expect_errors=True,
                          headers={**web.tokens["admin"], "Content-Type": "application/octet-stream",
                                   "Content-Length": str(3 * 1024 ** 3)})
    assert answer.status_int == 413
    assert not web.folder.exists() or not any(web.folder.iterdir())


@pytest.mark.parametrize("who,words", [("admin", ("Upgrade", "system slot A", "Upload and check",
                                                  "This file is not an upgrade")),
                                       ("admin_zh", ("升级", "系统槽位 A", "上传并检查", "不是呼叫中心设备的升级文件"))])
def test_the_page_says_what_runs_and_what_survives_in_the_users_language(web, who, words):
    web.app.reset()
    form = web.app.get("/login").forms[0]
    form["username"], form["password"] = who, PASSWORD
    form.submit()
    page = web.app.get("/admin/upgrade").text
    for word in words:
        assert word in page, word
    assert "rrmemory" not in page and "upgrade.not_bundle" not in page.split('id="upgrade-i18n"')[0]
    # the failed state's reason, translated
    web.folder.mkdir(parents=True, exist_ok=True)
    (web.folder / slots.STATE).write_text(json.dumps({"state": "failed", "msgid": "error.code.upgrade.write_failed",
                                                      "params": {"reason": "EIO"}}))
    page = web.app.get("/admin/upgrade").text
    assert ("Writing the other slot failed (EIO)" if who == "admin" else "写入另一个槽位失败（EIO）") in page


def test_a_derived_bundle_carries_its_version_and_files_in_the_root_filesystem(tmp_path):
    """The boot test's v2 and v3 are made so (image_build/derive.py): the files are really in
    the filesystem the box will mount, and the rest is the same."""
    import subprocess

    from image_build.derive import derive

    tree = tmp_path / "tree"
    (tree / "usr/share/appliance").mkdir(parents=True)
    (tree / "usr/share/appliance/version").write_text("1.0.0\n")
    (tree / "etc/systemd/system").mkdir(parents=True)
    (tree / "etc/hostname").write_text("callcenter\n")
    root = tmp_path / "root.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(root), "16M"], check=True)
    for name in ("vmlinuz", "initrd.img"):
        (tmp_path / name).write_bytes(name.encode())
    v1 = tmp_path / "v1.upgrade"
    make_bundle(root, tmp_path / "vmlinuz", tmp_path / "initrd.img", v1, {"version": "1.0.0", "kernel": "7"}, level=1)
    v3 = tmp_path / "v3.upgrade"
    unit = "/etc/systemd/system/appliance.service.d/broken.conf"
    manifest = derive(v1, v3, "3.0.0-broken", {unit: b"[Service]\nExecStart=\nExecStart=/bin/false\n"})
    assert manifest["version"] == "3.0.0-broken" and manifest["kernel"] == "7"
    assert slots.read_bundle(v3)["files"]["vmlinuz"] == slots.read_bundle(v1)["files"]["vmlinuz"]
    out = tmp_path / "out"
    out.mkdir()
    with tarfile.open(v3) as tar:
        tar.extractall(out, **SAFE)
    subprocess.run(f"gzip -dc {out / 'root.img.gz'} > {out / 'root.img'}", shell=True, check=True)

    def cat(path):
        return subprocess.run(["debugfs", "-R", f"cat {path}", str(out / "root.img")], capture_output=True,
                              text=True, check=True).stdout

    assert cat("/usr/share/appliance/version") == "3.0.0-broken\n"
    assert cat(unit) == "[Service]\nExecStart=\nExecStart=/bin/false\n"
    assert cat("/etc/hostname") == "callcenter\n"
