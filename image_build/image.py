"""``make image``: the bootable x86_64 disk image of the appliance.

The build reads top to bottom as named steps over one ``Context`` (mkosi's
``build_image`` is the model); each step says what it does and prints how long it
took.  No loop device and no mount: every filesystem is made from a folder or a file
(``mkfs.ext4 -d``, mtools, ``sfdisk`` on a plain file), so it runs in a container.

Steps (``STEPS`` below):

1. base root filesystem: mmdebstrap of Debian sid with the kernel, systemd, Python 3.14,
   Asterisk (the same packages as the test rootfs, ``image_build.rootfs.PACKAGES``, plus
   ``IMAGE_PACKAGES``), and the appliance's virtual environment with the pinned, hashed
   packages of ``python-requirements.txt``.  Cached in ``build/image/base/<key>/``
   (the key hashes every input), like the test rootfs.
2. staging tree: a copy of the base that the next steps change.
3. DAHDI modules: the kernel modules dahdi-dkms compiled in the base become a package of
   their own (``dahdi-modules-<kernel>``, providing ``dahdi-linux``); dahdi-dkms, DKMS,
   the compiler and the kernel headers are purged (about 400 MB).
4. application: our source tree in ``/opt/appliance`` (the venv finds it by a ``.pth``),
   compiled for the image's Python; the empty database at the newest schema
   (``provisioning.firstboot.DB_TEMPLATE``), which first boot copies; the table of number
   places (``appliance.places.SHIPPED``) from the image's phonenumbers.
5. overlay: ``rootfs/`` copied verbatim (Asterisk's static files, the image settings,
   systemd units, the console launcher).
6. initrd: dracut again, with the overlay's ``/etc/dracut.conf.d/50-appliance.conf``: only
   the drivers that find and mount the root (SATA, NVMe, eMMC, USB, virtio; ext4), checked
   in the result.
7. system: the appliance's account, units enabled, Debian's own ``asterisk.service`` disabled (the appliance runs
   Asterisk itself), fstab, hostname (in /etc/hosts; no build machine's resolver), an empty
   machine-id, the linker cache and journal catalog rebuilt and /etc, /var marked up to date
   with /usr (``UPDATE_DONE``).
8. manifest: every Debian package and Python package with its version, the .deb
   hashes, the mirror's release date, the git commit: ``<image>.manifest.json``.
9. ESP: FAT image (mtools) with slot A's kernel and initrd, systemd-boot (UEFI) and
   syslinux (BIOS), and one boot entry (slot A).
10. root partition: ``mkfs.ext4 -d`` of the staging tree (slot A's, and the upgrade's).
11. data partition: an empty ext4 for ``/var/lib/appliance``, grown to the disk at first boot.
12. disk: GPT (sfdisk on a plain file), syslinux's ``gptmbr.bin``: ESP, root A, root B
    (empty until the first upgrade), data (``appliance/slots.py`` says how they are used).
13. upgrade bundle: the root filesystem (gzip), kernel and initrd with a manifest of their
    SHA-256 (``callcenter-appliance.upgrade``, what a box running an older version takes).
14. compressed copy: ``zstd``, plus SHA-256 sums.

Run as a program (as root)::

    python -m image_build.image [--build-dir build] [--root-size-mib 2048] [--version 0.1.0+...]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from appliance import slots
from appliance.places import SHIPPED as SHIPPED_PLACES
from appliance.pbx import hosts_file
from appliance.proc import run
from image_build import rootfs as test_rootfs
from provisioning.firstboot import DB_TEMPLATE

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE_NAME = "callcenter-appliance"
SUITE = test_rootfs.SUITE

# Besides the test rootfs's Asterisk packages: what makes it a bootable appliance.
IMAGE_PACKAGES = (
    "linux-image-amd64",
    "systemd-sysv",
    "udev",
    "login",          # agetty's companion: without it serial-getty restarts in a loop
    "kmod",
    "iproute2",
    "procps",
    "e2fsprogs",
    "python3",
    "python3-venv",
    "ca-certificates",
    "openssl",        # the first-boot HTTPS certificate
    "smartmontools",  # SMART verdicts on the console's health page
    "tzdata",
    "systemd-boot-efi",  # only its systemd-bootx64.efi is used, copied to the ESP
    "systemd-repart",    # grows the root partition to the disk at boot (rootfs/etc/repart.d)
    # DAHDI: the user-space tools and Asterisk's channel driver.  `dahdi` pulls in
    # dahdi-dkms (Debian's only dahdi-linux), which compiles the kernel modules for the
    # image's kernel in the base (with gcc and the headers it brings); step_dahdi then
    # keeps the modules and purges the build tools: docs/image.md.
    "dahdi",
    "asterisk-dahdi",
)
APP_DIRS = ("appliance", "webui", "hwdrivers", "provisioning", "rootfs", "docs")
APP_FILES = ("pyproject.toml", "README.md")
APP_HOME = "/opt/appliance"
VENV = APP_HOME + "/venv"
REQUIREMENTS = Path(__file__).with_name("python-requirements.txt")

ESP_MIB = 256
# Each of the two root slots; 834 MiB of files on 6 December (docs/image.md); at most 85 % used
DEFAULT_ROOT_MIB = 2048
# The data partition as built: grown to the end of the disk at first boot
DATA_MIB = 256
SECTOR = 512
MIB = 1024 * 1024
GPT_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
GPT_ROOT_X86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
GPT_LINUX_DATA = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
# GPT partition names: /etc/fstab and appliance/slots.py find the partitions by them
# (/dev/disk/by-partlabel), so a root filesystem fits either slot and any box.
LABEL_ESP, LABEL_DATA = "appliance-esp", "appliance-data"
# Kernel command line: the serial port last, so /dev/console (systemd's messages, the
# first-boot notice) is the technician's port; eth0 names the LAN port; an unattended box
# restarts 10 s after a kernel panic instead of hanging.
KERNEL_OPTIONS = "rw net.ifnames=0 console=tty0 console=ttyS0,115200n8 quiet loglevel=3 panic=10"
ENABLE_UNITS = ("appliance-firstboot.service", "appliance.service", "serial-getty@ttyS0.service",
                "appliance-boot-check.service", "appliance-upgrade.path")
# Besides Debian's Asterisk: a box upgraded by whole images fetches no package lists (apt's
# timers) and has no LVM for e2scrub.  Masked, as they are static (no [Install] to disable):
# foreign binaries (binfmt_misc, which sat on the boot's critical chain), and the VT gettys
# but tty1's: getty-static starts five agettys on tty2-tty6 (a box without D-Bus), which
# took CPU from the first-boot steps (docs/operations.md, "Boot time").
DISABLE_UNITS = ("asterisk.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer",
                 "e2scrub_reap.service")
MASK_UNITS = ("systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount", "getty-static.service")
MANIFEST_IN_IMAGE = "usr/share/appliance/manifest.json"
RECIPE_VERSION = 2
BUNDLE_GZIP_LEVEL = 6


@dataclasses.dataclass
class Context:
    build_dir: Path
    root_mib: int = DEFAULT_ROOT_MIB
    version: str = ""  # the appliance's version: pyproject's, with the git commit, unless given
    out: Path = dataclasses.field(init=False)
    work: Path = dataclasses.field(init=False)
    base: Path | None = None
    key: str = dataclasses.field(init=False)  # the base's, fixed when the build starts
    kernel: str = ""
    manifest: dict = dataclasses.field(default_factory=dict)
    timings: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.build_dir = Path(self.build_dir).resolve()
        self.out = self.build_dir / "image"
        self.work = self.out / "work"
        self.key = base_key()
        self.version = self.version or default_version()

    @property
    def root(self) -> Path:
        return self.work / "root"

    @property
    def esp_img(self) -> Path:
        return self.work / "esp.img"

    @property
    def root_img(self) -> Path:
        return self.work / "root.img"

    @property
    def data_img(self) -> Path:
        return self.work / "data.img"

    @property
    def bundle(self) -> Path:
        return self.out / f"{IMAGE_NAME}.upgrade"

    @property
    def disk(self) -> Path:
        return self.out / f"{IMAGE_NAME}.raw"

    def uuid(self, name: str) -> str:
        """Stable identifiers from the inputs: the same inputs give the same disk layout."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{IMAGE_NAME}/{self.key}/{name}"))


def default_version() -> str:
    version = re.search(r'^version = "([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.M).group(1)
    git = _git_describe()
    return f"{version}+g{git['commit'][:10]}{'.dirty' if git['dirty'] else ''}" if git["commit"] else version


def base_packages() -> tuple[str, ...]:
    return tuple(test_rootfs.PACKAGES) + IMAGE_PACKAGES


def base_key() -> str:
    recipe = {"suite": SUITE, "packages": sorted(base_packages()), "apt": test_rootfs.APT_OPTIONS,
              "requirements": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest(),
              "recipe": RECIPE_VERSION}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


# -- steps ------------------------------------------------------------------------------

def step_base(ctx: Context) -> None:
    """Base root filesystem: mmdebstrap (cached by its inputs) with the Python venv"""
    cache = ctx.out / "base"
    ctx.base = test_rootfs.build_cached(cache, ctx.key, base_argv, "the image's base root filesystem")
    for old in cache.iterdir():  # one base is enough; an older one is only disk space
        if old.is_dir() and old.name != ctx.key:
            logger.info("removing the older base %s", old)
            shutil.rmtree(old)


def base_argv(target: Path) -> list[str]:
    """mmdebstrap's command line.  The customize hooks run in the new tree with its own
    /proc, /dev and the host's resolv.conf: pip there installs for the image's Python."""
    record = "/usr/share/appliance"
    req = "/tmp/python-requirements.txt"
    cert = "/tmp/host-ca.crt"
    pip_env = "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PIP_DISABLE_PIP_VERSION_CHECK=1"
    return test_rootfs.mmdebstrap_command(base_packages(), (
        f'mkdir -p "$1{record}" "$1{APP_HOME}"',
        # reproducible inputs: the .deb files' hashes and the mirror's release date
        f'cd "$1/var/cache/apt/archives" && sha256sum *.deb > "$1{record}/debs.sha256" || true',
        f'grep -h -E "^(Origin|Suite|Date):" "$1"/var/lib/apt/lists/*Release > "$1{record}/apt-release.txt" || true',
        f"copy-in {REQUIREMENTS} /tmp",
        # the host's CA bundle for pip (the host may sit behind a proxy with its own CA)
        f'cp /etc/ssl/certs/ca-certificates.crt "$1{cert}"',
        f'chroot "$1" {pip_env} python3 -m venv {VENV}',
        f'chroot "$1" {pip_env} {VENV}/bin/pip install --no-cache-dir --cert {cert} --require-hashes -r {req}',
        f'rm -f "$1{cert}" "$1{req}"',
    ), target, options=("--skip=essential/unlink",))  # keep the essential .debs for the hashes


def step_stage(ctx: Context) -> None:
    """Staging tree: a fresh copy of the base"""
    if ctx.work.exists():
        shutil.rmtree(ctx.work)
    ctx.work.mkdir(parents=True)
    run(["cp", "-a", "--reflink=auto", str(ctx.base), str(ctx.root)], what="copy the base root filesystem")
    (ctx.root / ".complete").unlink(missing_ok=True)


BUILD_TOOLS = ("dahdi-dkms", "dkms", "?name(^linux-headers-)", "?name(^gcc-[0-9]+-for-host)", "gcc", "make",
               "dpkg-dev", "patch")
APT_ENV = ("env", "DEBIAN_FRONTEND=noninteractive")


def step_dahdi(ctx: Context) -> None:
    """DAHDI modules: the ones DKMS compiled, packaged; compiler and headers purged"""
    root = ctx.root
    kernels = sorted(p.name for p in (root / "usr/lib/modules").iterdir() if (p / "updates/dkms").is_dir())
    if not kernels:  # dahdi-dkms compiles them when installed; a failed compile is silent
        raise RuntimeError("DKMS built no DAHDI modules in the base: see /var/lib/dkms there")
    kernel = kernels[-1]
    built = sorted((root / "usr/lib/modules" / kernel / "updates/dkms").glob("*.ko*"))
    if not any(p.name.startswith("dahdi.ko") for p in built):
        raise RuntimeError(f"DKMS built no dahdi.ko for kernel {kernel}")
    version = run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Version}", "dahdi-dkms"],
                  what="read dahdi-dkms's version", capture=True).stdout.strip()
    pkg = ctx.work / "dahdi-modules"
    target = pkg / "usr/lib/modules" / kernel / "updates/dahdi"
    target.mkdir(parents=True)
    for module in built:
        shutil.copy2(module, target / module.name)
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN/control").write_text(
        f"Package: dahdi-modules-{kernel}\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: Call-center appliance image build <root@localhost>\n"
        f"Provides: dahdi-linux\nDepends: linux-image-{kernel}\nSection: kernel\nPriority: optional\n"
        f"Description: DAHDI kernel modules for {kernel}, compiled by dahdi-dkms {version}\n"
        " Built during the image build; replaces dahdi-dkms on the appliance, which is\n"
        " upgraded by whole images: no compiler and no kernel headers on the box.\n")
    deb = root / "tmp/dahdi-modules.deb"
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "-b", str(pkg), str(deb)], what="package the DAHDI modules")
    chroot = ["chroot", str(root), *APT_ENV]
    run([*chroot, "dpkg", "-i", "/tmp/dahdi-modules.deb"], what="install the DAHDI modules package")
    deb.unlink()
    run([*chroot, "apt-get", "purge", "-y", "-q", *BUILD_TOOLS], what="purge DKMS, the compiler and headers")
    run([*chroot, "apt-get", "autoremove", "--purge", "-y", "-q", "-o", "APT::AutoRemove::RecommendsImportant=false",
         "-o", "APT::AutoRemove::SuggestsImportant=false"], what="purge what only the build tools needed")
    shutil.rmtree(root / "var/lib/dkms", ignore_errors=True)
    installed = set(installed_packages(root))
    lost = [p for p in base_packages() if p not in installed and p != "dahdi-dkms"]
    if lost:  # a purge that took a package the appliance needs with it
        raise RuntimeError(f"purging the build tools removed {', '.join(lost)}")
    run(["chroot", str(root), "depmod", "-a", kernel], what="index the kernel modules")
    logger.info("%d DAHDI modules for %s kept as dahdi-modules-%s", len(built), kernel, kernel)


def installed_packages(root: Path) -> dict[str, str]:
    """Every Debian package installed in ``root``, with its version."""
    out = run(["chroot", str(root), "dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"],
              what="list the image's Debian packages", capture=True).stdout
    return {name: version for status, name, version in (line.split("\t") for line in out.splitlines() if line)
            if status.startswith("ii")}


def step_app(ctx: Context) -> None:
    """Application: our source in /opt/appliance, on the venv's path, compiled"""
    home = ctx.root / APP_HOME.lstrip("/")
    home.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_DIRS:
        shutil.copytree(REPO_ROOT / name, home / name, ignore=ignore, symlinks=True)
    for name in APP_FILES:
        shutil.copy2(REPO_ROOT / name, home / name)
    site = sorted((ctx.root / VENV.lstrip("/") / "lib").glob("python3*/site-packages"))
    if not site:
        raise RuntimeError(f"no site-packages in {VENV} of the base: was the venv made?")
    (site[0] / "callcenter-appliance.pth").write_text(APP_HOME + "\n")
    run(["chroot", str(ctx.root), VENV + "/bin/python", "-m", "compileall", "-q", APP_HOME],
        what="compile the application for the image's Python")
    # the schema, not the data: first boot copies it instead of running every migration
    run(["chroot", str(ctx.root), VENV + "/bin/python", "-c",
         f"from provisioning.firstboot import make_database_template as m; m({str(DB_TEMPLATE)!r})"],
        what="make the empty database at the newest schema")
    # the place names and operators of the screen pop, from the image's own phonenumbers: the
    # appliance reads this file instead of importing phonenumbers' data (appliance/places.py)
    run(["chroot", str(ctx.root), VENV + "/bin/python", "-m", "appliance.places", "build", str(SHIPPED_PLACES)],
        what="build the table of number places")


def step_overlay(ctx: Context) -> None:
    """Overlay: rootfs/ copied verbatim"""
    run(["cp", "-a", "--no-preserve=ownership", f"{REPO_ROOT / 'rootfs'}/.", str(ctx.root)],
        what="copy the rootfs/ overlay")


SERVICE_USER = "appliance"  # rootfs/etc/appliance/appliance.conf: service_user
ASTERISK_USER = "asterisk"  # made by Debian's asterisk package


HOSTNAME = "callcenter"


def write_names(root: Path) -> None:
    """The box's host name, in /etc/hosts for both families (Asterisk looks it up for every
    call's RTP, PJSIP when it starts: never through DNS), and a resolv.conf naming no
    server: mmdebstrap leaves the build machine's, which no customer's LAN can reach, and a
    lookup sent there waits seconds where none fails at once."""
    (root / "etc/hostname").write_text(HOSTNAME + "\n")
    (root / "etc/hosts").write_text(hosts_file(HOSTNAME))
    resolv = root / "etc/resolv.conf"
    resolv.unlink(missing_ok=True)  # may be a link into the build machine's /run
    resolv.write_text("# No DNS server: the appliance needs none (its own name is in /etc/hosts).\n")


# What systemd does at the first boot after /usr changed (units with ConditionNeedsUpdate=):
# the dynamic linker's cache and the journal's message catalog, done here for the image's /usr,
# then marked done (/etc/.updated, /var/.updated), so a box's first boot skips ldconfig.service,
# systemd-journal-catalog-update.service and systemd-update-done.service, which sat on the
# appliance's critical chain (docs/operations.md, "Boot time").  Nothing in them is per box.
# sid's catalog update fails on a translation it lists but does not ship (systemd.be.catalog),
# as it does on the box: not a reason to stop the build.
UPDATE_DONE = ((["ldconfig"], "rebuild the dynamic linker's cache", True),
               (["journalctl", "--update-catalog"], "rebuild the journal's message catalog", False),
               (["/usr/lib/systemd/systemd-update-done"], "mark /etc and /var up to date with /usr", True))


# dracut reads /proc, /dev and /sys (its process substitutions, udev's rules): they are bound
# into the staging tree in a mount namespace of the build's own, gone with it.
_CHROOT_WITH_SYSTEM = ('set -e; root="$1"; shift; mount --rbind /dev "$root/dev"; mount -t proc proc "$root/proc"; '
                       'mount --rbind /sys "$root/sys"; exec chroot "$root" "$@"')
DRACUT_CONF = "etc/dracut.conf.d/50-appliance.conf"


def step_initrd(ctx: Context) -> None:
    """Initrd: dracut again, with the overlay's settings: only what finds and mounts the root"""
    kernels = sorted((ctx.root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise RuntimeError("no kernel in /boot of the image")
    ctx.kernel = kernels[-1].name.removeprefix("vmlinuz-")
    initrd = f"/boot/initrd.img-{ctx.kernel}"
    run(["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", _CHROOT_WITH_SYSTEM, "sh",
         str(ctx.root), "dracut", "--quiet", "--force", "--kver", ctx.kernel, initrd],
        what="make the initrd with the appliance's drivers only")
    listing = run(["chroot", str(ctx.root), "lsinitrd", initrd], what="list the initrd", capture=True).stdout
    missing = initrd_missing(listing, initrd_drivers(ctx.root / DRACUT_CONF))
    if missing:  # a driver dracut did not find (renamed in a newer kernel): a box that cannot find its disk
        raise RuntimeError(f"the initrd lacks the drivers {', '.join(missing)}: see {DRACUT_CONF}")
    logger.info("initrd: %d MiB, %d kernel modules", (ctx.root / initrd.lstrip("/")).stat().st_size // MIB,
                len(re.findall(r"\.ko(?:\.\w+)?$", listing, re.M)))


def initrd_drivers(conf: Path) -> list[str]:
    """The ``drivers="..."`` of a dracut configuration file."""
    match = re.search(r'^drivers="([^"]*)"', conf.read_text(), re.M)
    return match.group(1).split() if match else []


def initrd_missing(listing: str, drivers: list[str]) -> list[str]:
    """Which of ``drivers`` (module names; - and _ alike) has no file in ``lsinitrd``'s listing."""
    present = {m.group(1).replace("-", "_") for m in re.finditer(r"/([\w-]+)\.ko(?:\.\w+)?$", listing, re.M)}
    return [d for d in drivers if d.replace("-", "_") not in present]


def step_system(ctx: Context) -> None:
    """System: accounts, units enabled, fstab, hostname, machine-id"""
    root = ctx.root
    # The appliance's own account, in Asterisk's group (its instance directory, DAHDI's devices)
    run(["chroot", str(root), "useradd", "--system", "--user-group", "--home-dir", "/var/lib/appliance",
         "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", ASTERISK_USER,
         "--comment", "Call-center appliance", SERVICE_USER], what="add the appliance's account")
    run(["chroot", str(root), "systemctl", "enable", *ENABLE_UNITS], what="enable the appliance's units")
    for unit in DISABLE_UNITS:
        run(["chroot", str(root), "systemctl", "disable", unit], what=f"disable {unit}", check=False)
    run(["chroot", str(root), "systemctl", "mask", *MASK_UNITS], what="mask binfmt_misc and getty-static")
    # No line for /: the root filesystem is slot A's or slot B's (root= on the kernel's
    # command line says which); the data partition and the ESP are the same in both.
    (root / "etc/fstab").write_text(
        "# <device> <mount point> <type> <options> <dump> <pass>\n"
        f"PARTLABEL={LABEL_DATA} /var/lib/appliance ext4 rw,nosuid,nodev,x-systemd.growfs 0 2\n"
        f"PARTLABEL={LABEL_ESP} /efi vfat umask=0077,noauto,x-systemd.automount,x-systemd.idle-timeout=60 0 0\n")
    (root / "efi").mkdir(exist_ok=True)
    (root / slots.VERSION_FILE.relative_to("/")).write_text(ctx.version + "\n")
    write_names(root)
    (root / "etc/machine-id").write_text("")  # made at first boot: each box its own
    data = root / "var/lib/appliance"
    data.mkdir(parents=True, exist_ok=True)
    run(["chroot", str(root), "chown", f"{SERVICE_USER}:{ASTERISK_USER}", "/var/lib/appliance"],
        what="hand the data directory to the appliance's account")
    data.chmod(0o750)
    # DAHDI's tools read /etc/dahdi/system.conf; the appliance writes it in its data directory
    # (/etc is read-only to it)
    (root / "etc/dahdi").mkdir(parents=True, exist_ok=True)
    (root / "etc/dahdi/system.conf").unlink(missing_ok=True)
    (root / "etc/dahdi/system.conf").symlink_to("/var/lib/appliance/dahdi/system.conf")
    for argv, what, check in UPDATE_DONE:
        run(["chroot", str(root), *argv], what=what, check=check)
    if not (root / "boot" / f"initrd.img-{ctx.kernel}").exists():
        raise RuntimeError(f"no initrd for kernel {ctx.kernel} in /boot of the image")
    if not sorted((root / "usr/lib/modules" / ctx.kernel).glob("updates/dahdi/dahdi.ko*")):
        raise RuntimeError(f"no DAHDI modules for the image's kernel {ctx.kernel}")


def step_manifest(ctx: Context) -> None:
    """Manifest: every package version, .deb hashes, mirror date, git commit"""
    root = ctx.root
    pip = run(["chroot", str(root), VENV + "/bin/python", "-m", "pip", "freeze", "--all"],
              what="list the image's Python packages", capture=True).stdout
    record = root / "usr/share/appliance"
    debs = {}
    for line in _read(record / "debs.sha256").splitlines():
        digest, _, name = line.partition("  ")
        debs[name.strip()] = digest
    ctx.manifest = {
        "image": IMAGE_NAME,
        "version": ctx.version,
        "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "base_key": ctx.key,
        "git": _git_describe(),
        "suite": SUITE,
        "mirror_release": _read(record / "apt-release.txt").splitlines(),
        "kernel": ctx.kernel,
        "kernel_options": KERNEL_OPTIONS,
        "partitions": {"esp": ctx.uuid("esp"), "root-a": ctx.uuid("root-a"), "root-b": ctx.uuid("root-b"),
                       "data": ctx.uuid("data")},
        "debian_packages": installed_packages(root),
        "deb_sha256": debs,
        "python": {n: v for n, _, v in (line.partition("==") for line in pip.splitlines() if "==" in line)},
        "python_requirements_sha256": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest(),
    }
    text = json.dumps(ctx.manifest, indent=1, sort_keys=True) + "\n"
    (root / MANIFEST_IN_IMAGE).write_text(text)
    ctx.out.mkdir(parents=True, exist_ok=True)
    (ctx.out / f"{IMAGE_NAME}.manifest.json").write_text(text)
    logger.info("%d Debian packages, %d Python packages; Asterisk %s, Python %s, kernel %s",
                len(ctx.manifest["debian_packages"]), len(ctx.manifest["python"]),
                ctx.manifest["debian_packages"].get("asterisk"),
                ctx.manifest["debian_packages"].get("python3"), ctx.kernel)


def step_esp(ctx: Context) -> None:
    """ESP: FAT with slot A's kernel and initrd, systemd-boot (UEFI), syslinux (BIOS)"""
    img = ctx.esp_img
    with open(img, "wb") as f:
        f.truncate(ESP_MIB * MIB)
    run(["mformat", "-i", str(img), "-F", "-v", "ESP", "::"], what="make the ESP's FAT filesystem")
    staging = ctx.work / "esp"
    shutil.rmtree(staging, ignore_errors=True)
    for sub in ("EFI/BOOT", "EFI/systemd", "loader/entries", "syslinux", "slot-a"):
        (staging / sub).mkdir(parents=True)
    boot = ctx.root / "boot"
    shutil.copyfile(boot / f"vmlinuz-{ctx.kernel}", staging / "slot-a" / slots.KERNEL)
    shutil.copyfile(boot / f"initrd.img-{ctx.kernel}", staging / "slot-a" / slots.INITRD)
    sd_boot = ctx.root / "usr/lib/systemd/boot/efi/systemd-bootx64.efi"
    shutil.copyfile(sd_boot, staging / "EFI/BOOT/BOOTX64.EFI")
    shutil.copyfile(sd_boot, staging / "EFI/systemd/systemd-bootx64.efi")
    # No default: systemd-boot boots the entry with the highest version that has tries left
    # (an upgrade's entry is the newest; one whose try failed is sorted last).
    (staging / "loader/loader.conf").write_text("timeout 0\nconsole-mode keep\n")
    (staging / "loader/entries/slot-a.conf").write_text(
        slots.entry_text("a", ctx.version, 1, KERNEL_OPTIONS, ctx.uuid("root-a")))
    slots.write_syslinux(slots.Disk(esp=staging), "a")
    entries = sorted(p.name for p in staging.iterdir())
    run(["mcopy", "-s", "-i", str(img), *[str(staging / e) for e in entries], "::"],
        what="copy the boot files onto the ESP")
    run(["syslinux", "--install", "--directory", "/syslinux", str(img)],
        what="install syslinux (BIOS boot) on the ESP")


def step_root_fs(ctx: Context) -> None:
    """Root partition: mkfs.ext4 -d from the staging tree"""
    used = _du_mib(ctx.root)
    if used > ctx.root_mib * 0.85:
        raise RuntimeError(f"the root filesystem needs {used} MiB; --root-size-mib {ctx.root_mib} is too small")
    ctx.root_img.unlink(missing_ok=True)
    # each version's filesystem its own UUID: slot A and slot B never share one
    run(["mkfs.ext4", "-q", "-F", "-L", "root", "-U", ctx.uuid(f"rootfs/{ctx.version}"), "-d", str(ctx.root),
         str(ctx.root_img), f"{ctx.root_mib}M"],
        what="make the root filesystem from the staging tree",
        env={"E2FSPROGS_FAKE_TIME": str(_source_date_epoch())})
    logger.info("root filesystem: %d MiB of files in a %d MiB partition", used, ctx.root_mib)


def step_data_fs(ctx: Context) -> None:
    """Data partition: an empty ext4 for /var/lib/appliance"""
    empty = ctx.work / "data"
    empty.mkdir(exist_ok=True)
    owner = _ids(ctx.root, SERVICE_USER, ASTERISK_USER)
    ctx.data_img.unlink(missing_ok=True)
    run(["mkfs.ext4", "-q", "-F", "-L", "data", "-U", ctx.uuid("datafs"), "-E", f"root_owner={owner}",
         "-d", str(empty), str(ctx.data_img), f"{DATA_MIB}M"],
        what="make the data filesystem", env={"E2FSPROGS_FAKE_TIME": str(_source_date_epoch())})


def _ids(root: Path, user: str, group: str) -> str:
    """``uid:gid`` of ``user`` and ``group`` in the image's account files."""
    uid = next(line.split(":")[2] for line in (root / "etc/passwd").read_text().splitlines()
               if line.startswith(user + ":"))
    gid = next(line.split(":")[2] for line in (root / "etc/group").read_text().splitlines()
               if line.startswith(group + ":"))
    return f"{uid}:{gid}"


def step_disk(ctx: Context) -> None:
    """Disk: GPT on a plain file, gptmbr.bin: ESP, root A, root B (empty), data"""
    esp_start = 1 * MIB
    a_start = esp_start + ESP_MIB * MIB
    b_start = a_start + ctx.root_mib * MIB
    data_start = b_start + ctx.root_mib * MIB
    end = data_start + DATA_MIB * MIB + 1 * MIB  # the backup GPT at the end
    ctx.disk.unlink(missing_ok=True)
    with open(ctx.disk, "wb") as f:
        f.truncate(end)

    def part(start, mib, kind, name, attrs=""):
        return (f"start={start // SECTOR}, size={mib * MIB // SECTOR}, type={kind}, uuid={ctx.uuid(name)}, "
                f'name="appliance-{name}"{attrs}\n')

    script = ("label: gpt\n" f"label-id: {ctx.uuid('disk')}\n"
              + part(esp_start, ESP_MIB, GPT_ESP, "esp", ', attrs="LegacyBIOSBootable"')
              + part(a_start, ctx.root_mib, GPT_ROOT_X86_64, "root-a")
              + part(b_start, ctx.root_mib, GPT_ROOT_X86_64, "root-b")
              + part(data_start, DATA_MIB, GPT_LINUX_DATA, "data"))
    subprocess.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(ctx.disk)],
                   input=script, text=True, check=True)
    _place(_gptmbr(), ctx.disk, 0, limit=440)
    _place(ctx.esp_img, ctx.disk, esp_start)
    _place(ctx.root_img, ctx.disk, a_start)
    _place(ctx.data_img, ctx.disk, data_start)


def step_bundle(ctx: Context) -> None:
    """Upgrade bundle: root filesystem (gzip), kernel, initrd, manifest with SHA-256"""
    make_bundle(ctx.root_img, ctx.root / "boot" / f"vmlinuz-{ctx.kernel}",
                ctx.root / "boot" / f"initrd.img-{ctx.kernel}", ctx.bundle,
                {"version": ctx.version, "built": ctx.manifest.get("built"), "kernel": ctx.kernel,
                 "kernel_options": KERNEL_OPTIONS, "base_key": ctx.key, "git": ctx.manifest.get("git")})
    logger.info("%s: version %s, %d MiB", ctx.bundle.name, ctx.version, ctx.bundle.stat().st_size // MIB)


def make_bundle(root_img: Path, kernel: Path, initrd: Path, out: Path, manifest: dict,
                level: int = BUNDLE_GZIP_LEVEL) -> dict:
    """The upgrade bundle (``appliance/slots.py``) from a root filesystem image, a kernel and an initrd."""
    gz = out.with_name(out.name + ".root.img.gz")
    with open(gz, "wb") as f:
        subprocess.run(["gzip", "-n", f"-{level}", "-c", str(root_img)], stdout=f, check=True)
    try:
        return slots.write_bundle(out, manifest, {slots.KERNEL: kernel, slots.INITRD: initrd, slots.ROOT: gz})
    finally:
        gz.unlink()


def step_compress(ctx: Context) -> None:
    """Compressed copy: zstd, and SHA-256 sums"""
    zst = ctx.disk.with_name(ctx.disk.name + ".zst")
    run(["zstd", "-q", "-f", "-3", "-T0", str(ctx.disk), "-o", str(zst)], what="compress the image")
    sums = "".join(f"{_sha256(p)}  {p.name}\n" for p in (ctx.disk, zst, ctx.bundle))
    (ctx.out / f"{IMAGE_NAME}.sha256").write_text(sums)
    shutil.rmtree(ctx.work)  # the staging tree is a GB; the base stays cached


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], None]


STEPS = tuple(Step(fn.__doc__.split(":")[0], fn) for fn in (
    step_base, step_stage, step_dahdi, step_app, step_overlay, step_initrd, step_system, step_manifest,
    step_esp, step_root_fs, step_data_fs, step_disk, step_bundle, step_compress,
))


def build_image(ctx: Context, out=sys.stdout) -> Context:
    """Run every step in order, printing progress and each step's time."""
    started = time.monotonic()
    for number, step in enumerate(STEPS, 1):
        print(f"[{number}/{len(STEPS)}] {step.run.__doc__}", file=out, flush=True)
        t0 = time.monotonic()
        step.run(ctx)
        seconds = time.monotonic() - t0
        ctx.timings.append((step.name, round(seconds, 1)))
        print(f"      done in {seconds:.1f} s", file=out, flush=True)
    total = time.monotonic() - started
    ctx.timings.append(("total", round(total, 1)))
    (ctx.out / "build-times.json").write_text(json.dumps(dict(ctx.timings), indent=1) + "\n")
    print(f"image {ctx.disk} ({ctx.disk.stat().st_size // MIB} MiB, "
          f"{_allocated_mib(ctx.disk)} MiB allocated) and {ctx.disk.name}.zst in {total:.0f} s", file=out)
    return ctx


# -- helpers ----------------------------------------------------------------------------

def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _git_describe() -> dict:
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def _source_date_epoch() -> int:
    """The last commit's time (reproducible-builds.org's SOURCE_DATE_EPOCH convention)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    out = subprocess.run(["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%ct"], capture_output=True,
                         text=True).stdout.strip()
    return int(out) if out else int(time.time())


def _du_mib(path: Path) -> int:
    out = run(["du", "-sm", "--apparent-size", str(path)], what="measure the staging tree", capture=True).stdout
    return int(out.split()[0])


def _allocated_mib(path: Path) -> int:
    return path.stat().st_blocks * 512 // MIB


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def _gptmbr() -> Path:
    for candidate in ("/usr/lib/syslinux/mbr/gptmbr.bin", "/usr/lib/SYSLINUX/gptmbr.bin"):
        if Path(candidate).exists():
            return Path(candidate)
    raise RuntimeError("gptmbr.bin not found: install the host package syslinux-common")


def _place(src: Path, disk: Path, offset: int, limit: int | None = None) -> None:
    """Copy ``src`` into ``disk`` at ``offset``, leaving holes where ``src`` has zeros."""
    block = MIB
    with open(src, "rb") as fin, open(disk, "r+b") as fout:
        if limit is not None:
            fout.seek(offset)
            fout.write(fin.read(limit))
            return
        pos = offset
        while chunk := fin.read(block):
            if chunk.count(0) != len(chunk):
                fout.seek(pos)
                fout.write(chunk)
            pos += len(chunk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build", type=Path)
    parser.add_argument("--root-size-mib", default=DEFAULT_ROOT_MIB, type=int,
                        help="size of each of the two root partitions (the disk is twice this plus 514 MiB)")
    parser.add_argument("--version", default="", help="the version the image reports (default: pyproject's "
                                                       "and the git commit)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="      %(message)s")
    if os.geteuid() != 0:
        print("make image needs root (mmdebstrap, chroot, file ownership in the image)", file=sys.stderr)
        return 2
    build_image(Context(args.build_dir, root_mib=args.root_size_mib, version=args.version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
