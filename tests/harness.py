"""The call test harness: a real Asterisk (from the appliance rootfs), our real
services around it, and SIPp playing trunks and phones.

Every instance gets its own directories and ports, so nothing collides with a
running ``make run`` or another test.  Readiness is polled, never slept on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "tests" / "sipp"
TRUNK_IP = "127.0.0.2"  # trunks get their own loopback address (PJSIP identifies by source IP)
PHONE_IP = "127.0.0.1"

# Test ports come from below the kernel's ephemeral range (32768-60999 here), so an outgoing
# connection or another process's ``bind(port 0)`` can never take a port between the moment
# a test picks it and the moment Asterisk binds it. Each test process (an xdist worker, or
# another checkout's run on the same machine) claims its own block of that range by holding
# an flock on the block's file for its lifetime, so two processes never hand out the same
# port; inside its block a process walks a cursor and still checks that the port binds.
PORT_BASE, PORT_BLOCK, PORT_BLOCKS = 10000, 2000, 11  # 10000-31999
SINGLE_PORTS, MEDIA_PORTS = 1000, 400  # then 600 for Asterisk's RTP ranges
_block: dict = {}


def _port_block() -> int:
    """The first port of this process's block, claimed once (an flock held until exit)."""
    if _block.get("pid") != os.getpid():
        import fcntl
        import tempfile

        folder = Path(tempfile.gettempdir()) / "appliance-test-ports"
        folder.mkdir(exist_ok=True)
        start = os.getpid() % PORT_BLOCKS
        for i in range(PORT_BLOCKS):
            index = (start + i) % PORT_BLOCKS
            handle = open(folder / f"block-{index}", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            break
        else:  # every block held: share ours by pid; the bind check below still guards
            index, handle = start, None
        _block.update(pid=os.getpid(), handle=handle, base=PORT_BASE + index * PORT_BLOCK,
                      single=0, media=0, rtp=0)
    return _block["base"]


def _binds(port: int, host: str) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port of this process's block, free for both TCP and UDP, so one number serves either."""
    base = _port_block()
    for _ in range(SINGLE_PORTS):
        port = base + _block["single"]
        _block["single"] = (_block["single"] + 1) % SINGLE_PORTS
        if _binds(port, host):
            return port
    raise AssertionError(f"no free port in {base}-{base + SINGLE_PORTS - 1}")


def media_port() -> int:
    """An even RTP port base for one SIPp, spaced so instances never overlap."""
    base = _port_block() + SINGLE_PORTS
    port = base + _block["media"]
    _block["media"] = (_block["media"] + 10) % MEDIA_PORTS
    return port


def rtp_range() -> tuple[int, int]:
    """Two hundred ports for one Asterisk's RTP (it skips any port it cannot bind)."""
    base = _port_block() + SINGLE_PORTS + MEDIA_PORTS
    start = base + _block["rtp"]
    _block["rtp"] = (_block["rtp"] + 200) % (PORT_BLOCK - SINGLE_PORTS - MEDIA_PORTS)
    return start, start + 200


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Sipp:
    """One SIPp process running one scenario file."""

    scenario: str
    local_ip: str
    local_port: int
    remote: tuple[str, int] | None
    keys: dict
    log_dir: Path
    calls: int = 1
    rate: float | None = None
    limit: int | None = None
    service: str | None = None
    timeout_s: int = 60
    extra_args: tuple = ()
    process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        argv = ["sipp", "-sf", str(SCENARIOS / self.scenario), "-i", self.local_ip, "-p", str(self.local_port),
                "-mi", self.local_ip, "-mp", str(media_port()), "-m", str(self.calls), "-nostdin",
                "-timeout", f"{self.timeout_s}s", "-timeout_error", "-trace_err", "-trace_stat",
                "-stf", str(self.log_dir / f"{self.name}-stat.csv"),
                "-error_file", str(self.log_dir / f"{self.name}-errors.log")]
        if self.rate is not None:
            argv += ["-r", str(self.rate), "-rp", "1000"]
        if self.limit is not None:
            argv += ["-l", str(self.limit)]
        if self.service:
            argv += ["-s", self.service]
        for key, value in self.keys.items():
            argv += ["-key", key, str(value)]
        argv += list(self.extra_args)
        if self.remote:
            argv.append(f"{self.remote[0]}:{self.remote[1]}")
        return argv

    @property
    def name(self) -> str:
        return f"{Path(self.scenario).stem}-{self.local_port}"

    def start(self) -> "Sipp":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{self.name}.out", "wb")
        self.process = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                        cwd=self.log_dir)
        out.close()
        return self

    def wait(self, timeout: float = 90) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"SIPp {self.scenario} did not finish in {timeout}s") from None

    def run(self, timeout: float = 90) -> int:
        return self.start().wait(timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def signal(self, call_number: int = 1, call_id: str | None = None) -> None:
        """Wakes a scenario waiting in ``<recv request="MESSAGE"/>``: a SIP MESSAGE in call
        ``call_number``'s dialog, sent to SIPp's own port (SIPp matches a message to its
        call by Call-ID, by default ``<call number>-<pid>@<local ip>``). The test sends it
        when it sees what the caller waits for (a prompt playing, Record() started), so the
        scenario is not timed to the length of a prompt. A scenario that answered a call
        (uas) knows it by the caller's Call-ID: give it as ``call_id``."""
        assert self.process is not None and self.process.poll() is None, f"SIPp {self.scenario} is not running"
        call_id = call_id or f"{call_number}-{self.process.pid}@{self.local_ip}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.local_ip, 0))
            host, port = s.getsockname()
            message = (f"MESSAGE sip:caller@{self.local_ip}:{self.local_port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-test-{call_number}-{time.monotonic_ns()}\r\n"
                       f"From: <sip:test@{host}:{port}>;tag=test\r\nTo: <sip:caller@{self.local_ip}>\r\n"
                       f"Call-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            s.sendto(message.encode(), (self.local_ip, self.local_port))

    def errors(self) -> str:
        path = self.log_dir / f"{self.name}-errors.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class Phone:
    """An agent's SIP phone: one SIPp answering calls, one registering it."""

    def __init__(self, extension: str, password: str, asterisk: tuple[str, int], log_dir: Path,
                 ring_ms: int = 1000, calls: int = 1, scenario: str = "agent_phone_answer.xml",
                 timeout_s: int = 300):
        self.extension = extension
        self.password = password
        self.asterisk = asterisk
        self.log_dir = log_dir
        self.port = free_port(socket.SOCK_DGRAM)
        self.answer = Sipp(scenario, PHONE_IP, self.port, None,
                           {"agent": extension}, log_dir, calls=calls, timeout_s=timeout_s,
                           extra_args=("-d", str(ring_ms)))

    def start(self) -> "Phone":
        self.answer.start()
        self.register()
        return self

    def register(self) -> None:
        reg = Sipp("agent_phone_register.xml", PHONE_IP, free_port(socket.SOCK_DGRAM), self.asterisk,
                   {"agent": self.extension, "contact_port": self.port}, self.log_dir,
                   extra_args=("-au", self.extension, "-ap", self.password))
        rc = reg.run(30)
        assert rc == 0, f"phone {self.extension} failed to register: {reg.errors()}"

    def dial(self, number: str, timeout: float = 30, *, scenario: str = "phone_dial.xml", **keys) -> int:
        """Place a call from this phone (digest-authenticated), e.g. a feature code; ``keys``
        go to the scenario (``phone_dial_rtp.xml`` sends the pcap ``rtp_pcap``)."""
        call = self._call_from(scenario, number, free_port(socket.SOCK_DGRAM))
        call.keys.update(keys)
        rc = call.run(timeout)
        assert rc == 0, f"phone {self.extension} dialling {number} failed: {call.errors()}"
        return rc

    def shift(self, code: str, hold_ms: int | None = None) -> "Sipp":
        """Dial ``code`` (long sign-in) from the phone's own port and stay connected for
        ``hold_ms``, or (none given) until ``hang_up``: call it instead of ``start``, so any
        other call for the phone reaches this SIPp and fails it."""
        if hold_ms is None:
            return self._call_from("phone_shift_until_told.xml", code, self.port)
        return self._call_from("phone_shift.xml", code, self.port, ("-d", str(hold_ms)))

    def _call_from(self, scenario: str, number: str, port: int, extra: tuple = ()) -> "Sipp":
        return Sipp(scenario, PHONE_IP, port, self.asterisk, {"agent": self.extension}, self.log_dir,
                    service=number, timeout_s=300,
                    extra_args=("-au", self.extension, "-ap", self.password, *extra))

    def stop(self) -> None:
        self.answer.stop()


def trunk_call(asterisk: tuple[str, int], did: str, caller: str, log_dir: Path, *, hold_ms: int = 5000,
               scenario: str = "trunk_call.xml", caller_name: str = "Caller") -> Sipp:
    return Sipp(scenario, TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), asterisk,
                {"caller": caller, "caller_name": caller_name}, log_dir, service=did,
                extra_args=("-d", str(hold_ms)))


def hang_up(call: Sipp, timeout: float = 30) -> int:
    """For ``trunk_call_until_told.xml`` and ``Phone.shift`` with no ``hold_ms``: tells the
    caller to hang up now; its exit status."""
    call.signal()
    return call.wait(timeout)


def configure_basic(app, *, phone_secret="pw-1001-secret", did="88001000"):
    """One trunk, one queue, one DID into it, one phone and one agent in the queue."""
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": 5060, "match": TRUNK_IP}, actor="test")
    cfg.create("queues", {"name": "sales", "strategy": "rrmemory", "ring_timeout": 15}, actor="test")
    cfg.create("dids", {"number": did, "queue": "sales"}, actor="test")
    cfg.create("phones", {"extension": "1001", "secret": phone_secret, "callerid_name": "Alice"}, actor="test")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="test")
    cfg.add_member("sales", "1001", actor="test")


def signed_in_phone(app, tmp_path, calls=1, *, ring_ms=200, scenario="agent_phone_answer.xml"):
    """Alice's phone (of ``configure_basic``) answering ``calls`` calls, Alice signed in and free."""
    from appliance.engine.live import FREE

    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=ring_ms, calls=calls,
                  scenario=scenario).start()
    app.agents.login("1001")
    wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
    return phone


def left_idle(app) -> None:
    """After a test on an appliance that a module's tests share (``basic_appliance``): what is
    left of any call (a test that failed half-way, a SIPp stopped without its BYE) hung up,
    every agent signed out, no call left in the live state."""
    from appliance.engine.live import LOGGED_OUT

    app.pbx.cli("channel request hangup all")
    numbers = [agent["number"] for agent in app.config.list("agents")]
    for number in numbers:
        app.agents.logout(number)
    wait_until(lambda: not app.live.calls and all(app.live.agents[n].state == LOGGED_OUT for n in numbers
                                                  if n in app.live.agents), 15, "no call left, every agent signed out")


def started(app):
    app.start(web=False)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    return app


def sip_address(app):
    return ("127.0.0.1", app.settings.sip_port)


def write_dtmf_pcap(path: Path, digits: str, payload_type: int = 101) -> Path:
    """A pcap of RFC 2833 telephone-events keying ``digits`` (0-9, *, #; each ``,`` waits
    one second, as in a dial string), for SIPp's ``play_pcap_audio``. SIPp's own dtmf_2833_N.pcap files each start at the same RTP
    timestamp, so played one after another Asterisk takes the later digits for repeats of
    the first; here every digit is a new event in one stream. SIPp times a pcap from its
    first packet, so leading commas wait nothing."""
    rtp = RtpPcap(payload_type)
    for digit in digits:
        if digit == ",":
            rtp.pause(1.0)
        else:
            rtp.keys(digit)
    return rtp.write(path)


def alaw(sample: int) -> int:
    """One 16-bit linear sample as G.711 A-law (the classic segment encoder)."""
    value, mask = sample >> 3, 0xD5
    if value < 0:
        value, mask = -value - 1, 0x55
    seg = next((i for i, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)) if value <= end), 8)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (1 if seg < 2 else seg)) & 0xF)) ^ mask


class RtpPcap:
    """One RTP stream for SIPp's ``play_pcap_audio``, built in time order: RFC 2833 keys,
    G.711 A-law audio (a tone, or silence: a phone sends packets all the time) and pauses
    with no packets at all."""

    SSRC = 0x1234

    def __init__(self, payload_type: int = 101):
        self.payload_type = payload_type
        self.records: list[tuple[float, bytes]] = []
        self.seq, self.timestamp, self.clock = 1, 1000, 0.0

    @staticmethod
    def _ip_udp(payload: bytes) -> bytes:
        import struct

        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(payload), 0) + payload
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        checksum = sum(struct.unpack("!10H", header))
        checksum = ~((checksum & 0xFFFF) + (checksum >> 16)) & 0xFFFF
        header = header[:10] + struct.pack("!H", checksum) + header[12:]
        return b"\x00" * 12 + b"\x08\x00" + header + udp

    def _packet(self, marker: bool, payload_type: int, payload: bytes) -> None:
        import struct

        rtp = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, self.seq, self.timestamp,
                          self.SSRC) + payload
        self.records.append((self.clock, self._ip_udp(rtp)))
        self.seq += 1

    def keys(self, digits: str) -> "RtpPcap":
        import struct

        events = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
        for digit in digits:
            for i in range(8):  # 5 packets while the key is down, then the end packet 3 times
                end = i >= 5
                self._packet(i == 0, self.payload_type,
                             struct.pack("!BBH", events[digit], (0x80 if end else 0) | 10, 160 * min(i + 1, 5)))
                self.clock += 0.02 if i < 5 else 0.005
            self.timestamp += 160 * 5 + 800  # the next key 100 ms later
            self.clock += 0.1
        return self

    def audio(self, seconds: float, amplitude: float = 0.0, hz: float = 440.0) -> "RtpPcap":
        """A-law frames of 20 ms: a tone at ``amplitude`` of full scale, or silence."""
        import math

        for _ in range(round(seconds * 50)):
            frame = bytes(alaw(int(amplitude * 32767 * math.sin(2 * math.pi * hz * (self.timestamp + i) / 8000)))
                          for i in range(160))
            self._packet(False, 8, frame)
            self.timestamp += 160
            self.clock += 0.02
        return self

    def alaw(self, data: bytes) -> "RtpPcap":
        """Recorded speech: raw G.711 A-law at 8 kHz (``sox in.wav -r 8000 -c 1 -t al out.al``),
        in 20 ms frames."""
        for start in range(0, len(data) - len(data) % 160, 160):
            self._packet(False, 8, data[start:start + 160])
            self.timestamp += 160
            self.clock += 0.02
        return self

    def pause(self, seconds: float) -> "RtpPcap":
        self.clock += seconds
        self.timestamp += int(seconds * 8000)
        return self

    def write(self, path: Path) -> Path:
        import struct

        out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
        for when, frame in self.records:
            out += struct.pack("<IIII", int(when), int((when % 1) * 1e6), len(frame), len(frame)) + frame
        Path(path).write_bytes(out)
        return Path(path)


def played(app) -> list[str]:
    """The files Asterisk played, in order (messages.log at verbose 3: ``Playing 'x.gsm'``)."""
    import re

    log = app.settings.asterisk_dir / "log" / "messages.log"
    return re.findall(r"Playing '([^']+)'", log.read_text(errors="replace")) if log.exists() else []


def executed(app) -> list[str]:
    """The dialplan applications Asterisk ran, in order (messages.log at verbose 3:
    ``Executing [s@ctx:5] Record("PJSIP/...", ...)``)."""
    import re

    log = app.settings.asterisk_dir / "log" / "messages.log"
    return re.findall(r"Executing \[[^\]]*\] (\w+)\(", log.read_text(errors="replace")) if log.exists() else []


def speak_after_the_beep(app, call: Sipp, timeout: float = 30) -> None:
    """For ``trunk_call_message.xml``: once Asterisk runs Record() (its beep comes first,
    some 0.3 s), tell the caller to speak."""
    wait_until(lambda: "Record" in executed(app), timeout, "Record() to start the message")
    call.signal()


def key_when_heard(app, call: Sipp, heard: str, timeout: float = 30) -> Sipp:
    """For ``trunk_call_keys_then_bye.xml``: starts ``call`` and, once Asterisk starts playing
    a file whose name contains ``heard`` (counting only what it plays from now on), tells the
    caller to key its pcap."""
    before = len(played(app))
    call.start()
    wait_until(lambda: any(heard in f for f in played(app)[before:]), timeout, f"Asterisk to play {heard}")
    call.signal()
    return call


def channels(app) -> dict[str, dict]:
    """Channel name -> application and bridge, from ``core show channels concise``."""
    found = {}
    for line in app.pbx.cli("core show channels concise").splitlines():
        f = line.split("!")
        if len(f) >= 13:
            found[f[0]] = {"app": f[5], "bridge": f[12]}
    return found


def leg(app, prefix: str) -> dict:
    return next((c for name, c in channels(app).items() if name.startswith(prefix)), {})


def the_call(app):
    [call] = list(app.live.calls.values())
    return call
