"""Boot the appliance image in qemu (software emulation) and talk to its serial port.

Used by the boot test (``tests/boot``) and the image benchmark (``bench/image.py``).
The disk is a qcow2 overlay over the image (6 GiB, bigger than the image, so the data
partition's growth at first boot is exercised): every boot is a first boot and the image
file is never changed, unless a VM is started again on the disk (and UEFI variables) an
earlier one left (``fresh=False``: the upgrade test's restarts).  The guest's ttyS0 is
qemu's stdin/stdout; its web UI (ports 80 and 443) is forwarded to free ports on the host's
loopback (qemu user networking, whose DHCP server gives the guest 10.0.2.15).  Nothing leaves the machine but the guest's own
loopback-forwarded traffic.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
GUEST_WEB_PORT = 80
GUEST_HTTPS_PORT = 443


class KernelPanic(AssertionError):
    """The guest's kernel panicked (qemu runs with -no-reboot, so it then exits)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DISK_GIB = 6
# One virtual CPU for the tests.  With two, the guest's kernel panicked now and then ("Oops:
# int3" in sched_clock_cpu): it patches its own code (a static key flipped when the clocksource
# watchdog finds the TSC unstable, which under software emulation on a loaded host it does, at
# boot or minutes later: seen at 167 s while an upgrade was written) and another vCPU ran the
# half-patched code.  One vCPU has no other to race; the boot is a little slower.
TEST_CPUS = 1


def qemu_argv(disk: Path, web_port: int, https_port: int, firmware: str = "bios", vars_file: Path | None = None,
              memory_mib: int = 2048, cpus: int = 2, extra: tuple[str, ...] = ()) -> list[str]:
    # -cpu max: qemu's default model (qemu64) lacks SSE4.2 and POPCNT, which NumPy's wheels
    # need (x86-64-v2, as every x86 server since about 2009 has): with it the appliance died
    # of SIGILL at start in the boot test.
    argv = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-m", str(memory_mib),
            "-smp", str(cpus), "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot",
            "-drive", f"file={disk},format=qcow2,if=virtio",
            "-netdev", f"user,id=lan,hostfwd=tcp:127.0.0.1:{web_port}-:{GUEST_WEB_PORT}"
                       f",hostfwd=tcp:127.0.0.1:{https_port}-:{GUEST_HTTPS_PORT}",
            "-device", "virtio-net-pci,netdev=lan",
            "-device", "virtio-rng-pci"]
    if firmware == "uefi":
        argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={vars_file}"]
    elif firmware != "bios":
        raise ValueError(f"firmware is bios or uefi, not {firmware!r}")
    return argv + list(extra)


def make_overlay(image: Path, overlay: Path, size_gib: int = DISK_GIB) -> None:
    """A qcow2 disk of ``size_gib`` whose unwritten blocks read from ``image``."""
    overlay.unlink(missing_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(Path(image).resolve()),
                    str(overlay), f"{size_gib}G"], check=True)


class VM:
    """One running guest: ``expect`` on its serial output, ``type`` into it, ``http_get``
    its web UI.  Everything the serial port says is also written to ``log_path``."""

    def __init__(self, image: Path, log_path: Path, firmware: str = "bios", workdir: Path | None = None,
                 extra: tuple[str, ...] = (), fresh: bool = True, cpus: int = TEST_CPUS):
        self.image = Path(image)
        self.cpus = cpus
        self.extra = tuple(extra)
        self.log_path = Path(log_path)
        self.firmware = firmware
        self.workdir = Path(workdir or self.log_path.parent)
        self.fresh = fresh
        self.web_port = free_port()
        self.https_port = free_port()
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self._buffer = ""
        self._transcript = ""  # everything, never consumed, for seen_at
        self._arrivals: list[tuple[int, float]] = []  # (transcript length, seconds since start)
        self._lock = threading.Condition()
        self._reader: threading.Thread | None = None

    def start(self) -> VM:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        vars_file = None
        if self.firmware == "uefi":
            vars_file = self.workdir / "OVMF_VARS.fd"
            if self.fresh or not vars_file.exists():
                vars_file.write_bytes(OVMF_VARS.read_bytes())
        overlay = self.workdir / "disk.qcow2"
        if self.fresh or not overlay.exists():
            make_overlay(self.image, overlay)
        argv = qemu_argv(overlay, self.web_port, self.https_port, self.firmware, vars_file, cpus=self.cpus,
                         extra=self.extra)
        logger.info("booting %s (%s), web UI on 127.0.0.1:%d (HTTP) and :%d (HTTPS)", self.image, self.firmware,
                    self.web_port, self.https_port)
        self._log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, bufsize=0)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        while True:
            chunk = self.process.stdout.read(4096)
            if not chunk:
                break
            self._log.write(chunk)
            self._log.flush()
            with self._lock:
                text = chunk.decode("utf-8", "replace")
                self._buffer += text
                self._transcript += text
                self._arrivals.append((len(self._transcript), self.elapsed))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def expect(self, pattern: str, timeout: float) -> re.Match:
        """Wait for ``pattern`` (a regex on the raw text, kernel messages and escape
        sequences included) and consume the output up to the end of the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                match = regex.search(self._buffer)
                if match:
                    self._buffer = self._buffer[match.end():]
                    return match
                if "Kernel panic" in self._buffer:
                    raise KernelPanic(f"the guest's kernel panicked before {pattern!r}; serial log: {self.log_path}")
                if self.process.poll() is not None:
                    raise AssertionError(f"qemu exited ({self.process.returncode}) before {pattern!r}; "
                                         f"serial log: {self.log_path}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = self._buffer[-2000:]
                    raise AssertionError(f"the serial console never wrote {pattern!r} within {timeout:.0f} s; "
                                         f"last output:\n{tail}\n(whole log: {self.log_path})")
                self._lock.wait(min(remaining, 1.0))

    def sign_in(self, user: str, password: str, timeout: float = 60) -> None:
        """Answer the console's sign-in screen (its ``login:`` already shown) and wait for
        the menu prompt."""
        self.type(user)
        self.expect(r"password: ", 30)
        self.type(password)
        self.expect(rf"Signed in as {re.escape(user)}", timeout)
        self.expect(r"console> ", 30)

    def seen_at(self, pattern: str) -> float | None:
        """Seconds from power-on to when the serial port finished writing ``pattern``
        (whether or not anyone was waiting for it then), or None if it has not."""
        with self._lock:
            match = re.search(pattern, self._transcript)
            if match is None:
                return None
            return next(t for length, t in self._arrivals if length >= match.end())

    def type(self, *lines: str) -> None:
        for line in lines:
            self.process.stdin.write(line.encode() + b"\r")
            self.process.stdin.flush()
            time.sleep(0.2)  # a 16550 has a 16-byte FIFO; a fast writer loses characters

    def http_get(self, path: str, timeout: float = 10.0, https: bool = False) -> tuple[int, bytes, dict]:
        """One GET on the guest's web UI, redirects not followed; the guest's certificate is
        self-signed, so it is not verified here (the test compares its fingerprint)."""
        scheme, port = ("https", self.https_port) if https else ("http", self.web_port)
        conn = (http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                            context=ssl._create_unverified_context()) if https
                else http.client.HTTPConnection("127.0.0.1", port, timeout=timeout))
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def certificate_fingerprint(self) -> str:
        """SHA-256 of the certificate the guest's HTTPS port presents (AB:CD:...)."""
        context = ssl._create_unverified_context()
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=30) as raw:
            with context.wrap_socket(raw) as tls:
                digest = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    def wait_http_json(self, path: str, timeout: float, accept=lambda status, body: True, https: bool = False) -> dict:
        """Poll ``path`` until it answers JSON that ``accept`` likes; return that JSON."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while True:
            try:
                status, body, _ = self.http_get(path, timeout=5, https=https)
                data = json.loads(body)
                if accept(status, data):
                    return data
                last = f"HTTP {status}: {body[:300]!r}"
            except (OSError, ValueError, http.client.HTTPException) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} on the guest's web UI: {last} after {timeout:.0f} s")
            with self._lock:
                if "Kernel panic" in self._buffer:
                    raise KernelPanic(f"the guest's kernel panicked; serial log: {self.log_path}")
            if self.process.poll() is not None:
                raise AssertionError(f"qemu exited ({self.process.returncode}); serial log: {self.log_path}")
            time.sleep(2)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        if self._reader is not None:
            self._reader.join(5)
        self._log.close()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> VM:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# systemd (PID 1) announces itself on the console before anything else in user space
USERSPACE = r"comm=systemd;type=boot|systemd\[1\]"


def boot(image: Path, log_path: Path, firmware: str = "bios", workdir: Path | None = None,
         attempts: int = 2, timeout: float = 180, extra: tuple[str, ...] = (), fresh: bool = True,
         cpus: int = TEST_CPUS) -> VM:
    """A started VM whose kernel reached user space.  Under qemu's software emulation the
    kernel has been seen to panic in its first two seconds (an int3 in sched_clock_cpu
    while it patches its own code on another vCPU; 1 boot in 6 here): such a boot is
    logged and tried again, ``attempts`` times in all.  The caller stops the VM."""
    for attempt in range(1, attempts + 1):
        log = Path(log_path) if attempt == 1 else Path(log_path).with_suffix(f".try{attempt}.log")
        vm = VM(image, log, firmware=firmware, workdir=workdir, extra=extra, fresh=fresh, cpus=cpus).start()
        try:
            vm.expect(USERSPACE, timeout)
            return vm
        except KernelPanic:
            vm.stop()
            if attempt == attempts:
                raise
            logger.warning("the guest's kernel panicked before user space (try %d, %s); booting again",
                           attempt, log)
        except BaseException:
            vm.stop()
            raise
    raise AssertionError("unreachable")


def cpu_note() -> str:
    return f"{os.cpu_count()} host cores, qemu TCG (no KVM)"


# -- a root shell for tests, given to the guest from outside --------------------------------
# systemd reads credentials from SMBIOS type 11 strings (``io.systemd.credential.binary:``)
# and its debug generator turns ``systemd.extra-unit.<unit>`` into a unit and
# ``systemd.unit-dropin.<unit>`` into a drop-in: a test adds a shell on a second serial
# port without changing the image (the image ships no such unit; a real box has no second
# port wired to anything).

TEST_SHELL_UNIT = """[Unit]
Description=Root shell on ttyS1 for the boot tests (given by qemu's SMBIOS, not in the image)
After=systemd-udevd.service

[Service]
ExecStart=/bin/bash --noprofile --norc
StandardInput=tty
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS1
TTYReset=yes
Restart=always
Environment=TERM=dumb PS1=
"""


def credential_args(credentials: dict[str, str]) -> tuple[str, ...]:
    """qemu options passing systemd credentials through SMBIOS type 11 strings."""
    import base64

    args: list[str] = []
    for name, text in credentials.items():
        value = base64.b64encode(text.encode()).decode()
        args += ["-smbios", f"type=11,value=io.systemd.credential.binary:{name}={value}"]
    return tuple(args)


class TestShell:
    """A root shell on the guest's second serial port (a unix socket on the host).

    ``run`` sends one command line and returns its output and exit status, found between
    markers the shell prints, so kernel messages on ttyS0 never mix in."""

    __test__ = False  # not a pytest class

    def __init__(self, socket_path: Path, log_path: Path):
        self.socket_path = Path(socket_path)
        self.log_path = Path(log_path)
        self.sock: socket.socket | None = None
        self._buffer = b""
        self._count = 0
        self._session = os.urandom(4).hex()  # markers of an earlier session never match

    def qemu_args(self) -> tuple[str, ...]:
        return ("-chardev", f"socket,id=testshell,path={self.socket_path},server=on,wait=off",
                "-serial", "chardev:testshell",
                *credential_args({"systemd.extra-unit.appliance-test-shell.service": TEST_SHELL_UNIT,
                                  "systemd.unit-dropin.multi-user.target":
                                      "[Unit]\nWants=appliance-test-shell.service\n"}))

    def connect(self, timeout: float = 300) -> TestShell:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(str(self.socket_path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self._log = open(self.log_path, "ab")
        # the shell starts when systemd reaches multi-user: ask until it answers
        while True:
            try:
                self.run("stty -echo -onlcr 2>/dev/null; set +H; true", timeout=5)
                return self
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no root shell on the guest's ttyS1 within {timeout:.0f} s")

    def run(self, command: str, timeout: float = 60, check: bool = True) -> tuple[int, str]:
        self._count += 1
        tag = f"@@{self._session}-{self._count}@@"
        # printf keeps the marker out of the command's own echo (if the tty echoes at all)
        line = f"{command}\nprintf '%s%s %d\\n' '{tag[:3]}' '{tag[3:]}' $?\n"
        self.sock.sendall(line.encode())
        pattern = re.compile(re.escape(tag.encode()) + rb" (\d+)\r?\n")
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self._buffer)
            if match:
                out = self._buffer[:match.start()].decode("utf-8", "replace")
                self._buffer = self._buffer[match.end():]
                status = int(match.group(1))
                if check and status != 0:
                    raise AssertionError(f"guest command failed ({status}): {command}\n{out[-3000:]}")
                return status, out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"guest command did not finish in {timeout:.0f} s: {command}")
            self.sock.settimeout(min(remaining, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError("the guest's ttyS1 closed")
            self._log.write(chunk)
            self._log.flush()
            self._buffer += chunk

    def write_file(self, path: str, text: str) -> None:
        """Put ``text`` into ``path`` on the guest (base64 over the serial line)."""
        import base64

        data = base64.b64encode(text.encode()).decode()
        self.run(f"rm -f {path}.b64")
        for i in range(0, len(data), 512):
            self.run(f"printf '%s' '{data[i:i + 512]}' >> {path}.b64")
        self.run(f"base64 -d {path}.b64 > {path} && rm {path}.b64")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self._log.close()
