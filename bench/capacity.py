"""Benchmark: capacity, the most concurrent two-way calls carried cleanly (issue 23, point 4).

SIPp plays both ends, as in ``bench/recorded_calls.py``: a trunk (UAC) calling in, and the
agents' phones (one UAS answering for every registered agent), each side sending G.711 A-law
speech in **20 ms packets** for the whole call (SIPp's own ``g711a.pcap`` is 30 ms packets:
its speech is cut again into 160-byte frames). Concurrent calls are raised in steps
(``STEPS``), each held ``hold_s`` (60 s), arriving ``rate`` a second, through two paths of the
same Asterisk in the same run, a step of each in turn:

- **bare Asterisk**: a static dialplan, the DID straight to ``Dial(PJSIP/<agent>)``, the same
  SIPp phone answering (no FastAGI, no queue, no recording);
- **the full path**: FastAGI ``route``, the queue, an agent's phone answering, inbound
  recording forced (MixMonitor, then the MP3 encoder after the hang-up).

A step is **clean** when no call failed (the trunk's SIPp counts every call successful, every
call carried audio both ways for at least 80 % of its hold, and, on the full path, every
call's recording is complete) and Asterisk made no **gap over 60 ms** in what it sent: more
than 80 ms between two packets (three 20 ms packets' worth of audio missing), or 3 or more
packets lost in a row (sequence numbers). A step that is not clean is run once more (once
may be another job's burst on the shared machine); a path stops at two in a row.

How the gaps are seen: a capture process (``capture``) reads every UDP packet on the loopback
with kernel timestamps (an ``AF_PACKET`` socket as root, a BPF filter keeping the first 96
bytes of UDP only) and follows each RTP stream from or to Asterisk's ports: what the phones
receive, timed when it was sent (the copy taken as a packet is sent: the loopback's received
copy is stamped when the kernel gets round to its receive work, on a busy machine up to
hundreds of ms later, in every stream at once), whatever the capture's own scheduling.
Asterisk's own figures (``CHANNEL(rtpqos,...)``) were not enough: they count what it
*received* (loss from sequence numbers, jitter) and cannot see a gap Asterisk makes in what
it sends, and reading them needs a hook in the appliance's dialplan.

Whose a gap is: a gap in what Asterisk sent is not its own when it began while SIPp was
pausing too (``own_gaps``: SIPp's streams are followed too, ``load_generator``) or while the
machine itself stalled (``probe``: a real-time task sleeping 5 ms at a time, which no load of
Asterisk's can delay, saw its sleep overrun, ``machine_stalls``). Everything measured (this
process, Asterisk, the encoders, SIPp) runs at nice -10 (``favour_this_process``). On this
machine, while other jobs ran (a qemu boot takes both cores), SIPp and Asterisk both stopped
for 100-350 ms in every stream at once, at 10 calls as at 60: without these, a 60 s step was
clean or not by the luck of the other jobs.

Figures:

- ``capacity ratio``: the full path's highest clean step over bare Asterisk's (``None`` when
  bare Asterisk had no clean step; a lower bound when bare Asterisk was clean at every step);
- ``recorded calls per core``: at the full path's highest clean step, ``0.8 x calls x hold_s /
  cpu_s``, where ``cpu_s`` is the processor time of Asterisk, the supervisor process and its
  encoder workers from the first INVITE to the last MP3 written (SIPp and the capture are not
  counted; they are reported apart): how many recorded calls one core carries at 80 % busy,
  each call's setup and encoding spread over its hold.

Every step's figures (failed calls, gaps, the worst interval, the machine's stalls, processor
seconds of each part, the machine's load average) are in the results. The machine is 2
cores shared with other jobs, on the host (not under qemu).

Not a test: it measures. ``python -m bench.capacity [hold_s] [rate] [step,step,...]``; runs
as root (the capture). Asterisk's RTP range is the whole of this process's RTP ports (600:
150 calls at most).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] not in (["capture"], ["probe"]):  # gevent first (not in those)
    from gevent import monkey

    monkey.patch_all()

import bisect
import ctypes
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import gevent

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import harness  # noqa: E402
from harness import SCENARIOS, TRUNK_IP, RtpPcap, Sipp, free_port, wait_until  # noqa: E402

from bench.common import figure, new_appliance, write_results  # noqa: E402

DID = "88001000"
STATIC_DID = "77001000"
STEPS = (10, 20, 40, 60, 80, 100, 120, 140)
SPEECH_PCAP = Path("/usr/share/sip-tester/g711a.pcap")
GAP_MS = 80.0  # more than 80 ms between two 20 ms packets: over 60 ms of audio missing
LOST_IN_A_ROW = 3
CARRIED = 0.8  # a call carried audio when each of its streams lasted 80 % of the hold
BUSY = 0.8  # recorded calls per core are counted at 80 % of a core


# -- the audio ---------------------------------------------------------------------------------
def speech_20ms(path: Path, seconds: float) -> Path:
    """SIPp's speech (A-law in 30 ms packets) cut again into 20 ms packets and played back to
    back for ``seconds``: one RTP stream at exactly 50 packets a second."""
    data, pos, speech = SPEECH_PCAP.read_bytes(), 24, bytearray()
    while pos + 16 <= len(data):
        length = struct.unpack_from("<I", data, pos + 8)[0]
        frame = data[pos + 16:pos + 16 + length]
        rtp = 14 + (frame[14] & 0x0F) * 4 + 8
        if len(frame) > rtp + 12 and frame[rtp + 1] & 0x7F == 8:
            speech += frame[rtp + 12:]
        pos += 16 + length
    needed = int(seconds * 8000)
    return RtpPcap().alaw(bytes((speech * (needed // len(speech) + 1))[:needed])).write(path)


def scenarios(folder: Path, hold_s: int) -> tuple[Path, Path]:
    """trunk_call.xml and agent_phone_answer.xml sending the 20 ms speech for the whole call;
    the phone waits for the BYE for the hold and a minute more."""
    pcap = speech_20ms(folder / f"speech20ms-{hold_s}.pcap", hold_s + 30)
    made = []
    for name in ("trunk_call.xml", "agent_phone_answer.xml"):
        text = (SCENARIOS / name).read_text()
        assert str(SPEECH_PCAP) in text, f"{name} changed: it no longer plays {SPEECH_PCAP}"
        text = text.replace(str(SPEECH_PCAP), str(pcap)).replace('timeout="60000"',
                                                                   f'timeout="{(hold_s + 60) * 1000}"')
        made.append(folder / f"{Path(name).stem}_capacity{hold_s}.xml")
        made[-1].write_text(text)
    return made[0], made[1]


# -- the streams (pure) ------------------------------------------------------------------------
PAUSE_MS = 40.0  # intervals kept (times) to tell whose a gap is
SETTLING_S = 1.0  # a stream's first second: its call is starting (a phone sends when it is ready)
RESYNC = 100  # a sequence jump of more than this, or a new SSRC: a new source, not losses


class Streams:
    """RTP streams followed packet by packet: ``packet(key, t, seq, ssrc)`` with ``t`` in
    seconds. Each stream keeps its first and last time, its packets, the packets lost
    (sequence numbers skipped), its gaps (an interval over ``GAP_MS``, or ``LOST_IN_A_ROW``
    or more lost in a row), its longest interval, and each pause over ``PAUSE_MS`` as
    ``(before, after)``. A packet behind the last one (sequence number) is counted, not
    followed; a new SSRC or a jump of more than ``RESYNC`` is a new source (Asterisk changing
    from its own packets to the other phone's, as a bridge forms): its sequence is taken up
    again, the time between still counts. Nothing counts in a stream's first ``SETTLING_S``."""

    def __init__(self):
        self.streams: dict[tuple, list] = {}

    def packet(self, key: tuple, t: float, seq: int, ssrc: int = 0) -> None:
        s = self.streams.get(key)
        if s is None:  # first, last, packets, seq, ssrc, lost, gaps, longest, pauses, runs lost
            self.streams[key] = [t, t, 1, seq, ssrc, 0, 0, 0.0, [], 0]
            return
        s[2] += 1
        step = (seq - s[3]) & 0xFFFF
        new_source = ssrc != s[4] or RESYNC < step < 0x10000 - RESYNC
        if not new_source and (step == 0 or step >= 0x8000):
            return
        lost = 0 if new_source else step - 1
        interval_ms = (t - s[1]) * 1000
        if t - s[0] >= SETTLING_S:
            s[5] += lost
            if interval_ms > GAP_MS or lost >= LOST_IN_A_ROW:
                s[6] += 1
                s[9] += interval_ms <= GAP_MS  # lost in a row, on time: a gap no pause shows
            s[7] = max(s[7], interval_ms)
            if interval_ms > PAUSE_MS and len(s[8]) < 500:
                s[8].append((s[1], t))
        s[1], s[3], s[4] = t, seq, ssrc

    def dump(self) -> list[dict]:
        return [{"key": list(key), "first": s[0], "last": s[1], "packets": s[2], "lost": s[5], "gaps": s[6],
                 "longest_ms": round(s[7], 1), "pauses": s[8], "runs_lost": s[9]} for key, s in self.streams.items()]


def own_gaps(asterisk: list[tuple[float, float]], others: list[tuple[float, float]], slack: float = 0.02) -> int:
    """How many of Asterisk's gaps (``(before, after)``, over ``GAP_MS``) are its own: those
    that did not begin while something outside Asterisk stopped too (``others``: SIPp's
    pauses over ``PAUSE_MS`` in any of its streams, the machine's stalls; ``slack`` either
    side: forwarding takes a moment). A stall of the machine's stops SIPp and Asterisk
    together, and Asterisk, with a thread for each call to wake, came back up to 100 ms after
    SIPp here: how long it takes to come back from what was not its doing is not counted. A
    gap of Asterisk's own making (falling behind with its calls) begins while SIPp, a few
    percent of a core, sends on. The capture cannot tell which of SIPp's streams feeds which
    of Asterisk's, so a pause of any counts; a stall stops all of SIPp's streams at once."""
    others = sorted(others)
    starts = [a for a, _ in others]
    longest = max((b - a for a, b in others), default=0.0)
    own = 0
    for a1, a2 in asterisk:
        if (a2 - a1) * 1000 <= GAP_MS:
            continue
        lo = bisect.bisect_left(starts, a1 - longest - slack)
        if not any(s1 - slack <= a1 <= s2 + slack for s1, s2 in others[lo:bisect.bisect_right(starts, a1 + slack)]):
            own += 1
    return own


def summary(streams: list[dict], calls: int, hold_s: float, stalls: list = (), trunk_ip: str = TRUNK_IP) -> dict:
    """One step's streams, as keyed by ``capture`` (``[sender, src, sport, dst, dport]``, sender
    ``asterisk`` or ``sipp``): the calls that carried audio both ways (Asterisk's streams to
    the trunk and to the phones, each lasting ``CARRIED`` of the hold), the gaps in what
    Asterisk sent (all, and its own: ``own_gaps``, where the machine's ``stalls`` seen by
    ``probe`` are not its own either) and in what SIPp sent, the packets lost and
    the longest interval of each. Runs of packets lost in what Asterisk sent are its own gaps
    (SIPp loses none on the loopback)."""
    out = {sender: {"gaps": 0, "lost": 0, "longest_ms": 0.0, "streams": 0, "runs_lost": 0}
           for sender in ("asterisk", "sipp")}
    pauses: dict[str, list] = {"asterisk": [], "sipp": []}
    to_trunk = to_phones = 0
    for s in streams:
        sender, _, _, dst, _ = s["key"]
        side = out[sender]
        side["gaps"] += s["gaps"]
        side["lost"] += s["lost"]
        side["runs_lost"] += s["runs_lost"]
        side["streams"] += 1
        side["longest_ms"] = max(side["longest_ms"], s["longest_ms"])
        pauses[sender] += [tuple(p) for p in s["pauses"]]
        if sender == "asterisk" and s["last"] - s["first"] >= CARRIED * hold_s:
            to_trunk += dst == trunk_ip
            to_phones += dst != trunk_ip
    covering = pauses["sipp"] + [tuple(s) for s in stalls]
    out["asterisk"]["own_gaps"] = own_gaps(pauses["asterisk"], covering) + out["asterisk"]["runs_lost"]
    longest_stall = max((b - a for a, b in stalls), default=0.0)
    return {"carried": min(to_trunk, to_phones, calls), "to_trunk": to_trunk, "to_phones": to_phones,
            "asterisk": out["asterisk"], "load_generator": out["sipp"],
            "machine_stalls": {"count": len(stalls), "longest_ms": round(longest_stall * 1000, 1)}}


def clean(step: dict) -> bool:
    """No failed call, every call carried audio both ways (and recorded, on the full path), no
    gap of Asterisk's own in what it sent (``own_gaps``), and the capture dropped nothing (a
    dropped packet would look like a gap)."""
    audio = step["audio"]
    return (step["failed"] == 0 and step["successful"] == step["calls"] and audio["carried"] == step["calls"]
            and step.get("recordings_complete") in (None, step["calls"]) and audio["asterisk"]["own_gaps"] == 0
            and step["capture"]["drops"] == 0)


# -- the capture process -----------------------------------------------------------------------
SO_ATTACH_FILTER, SO_TIMESTAMPNS, SO_RCVBUFFORCE = 26, 35, 33
SOL_PACKET, PACKET_STATISTICS = 263, 6
BPF = [  # (code, jt, jf, k): packets as they are sent (PACKET_OUTGOING), IPv4 UDP, 96 bytes of it
    (0x20, 0, 0, 0xFFFFF004),  # ld pkttype
    (0x15, 0, 5, 4),           # != PACKET_OUTGOING (the loopback's copy as received): drop
    (0x28, 0, 0, 12),          # ldh ethertype
    (0x15, 0, 3, 0x0800),      # != IPv4: drop
    (0x30, 0, 0, 23),          # ldb IP protocol
    (0x15, 0, 1, 17),          # != UDP: drop
    (0x06, 0, 0, 96),          # keep 96 bytes
    (0x06, 0, 0, 0),           # drop
]


def capture(out: Path, rtp_start: int, rtp_end: int) -> None:
    """Until SIGTERM: every RTP packet (A-law) on the loopback from or to Asterisk's ports
    ``rtp_start``-``rtp_end``, by kernel timestamp, into ``Streams``; then writes
    ``{"streams", "drops", "packets", "cpu_s"}`` to ``out``."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    program = b"".join(struct.pack("HBBI", *insn) for insn in BPF)
    buf = ctypes.create_string_buffer(program)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(BPF), ctypes.addressof(buf)))
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.bind(("lo", 0))
    sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reading the statistics resets them
    sock.settimeout(0.2)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    streams, packets = Streams(), 0
    out.with_suffix(".ready").write_text("")
    while not stopping:
        try:
            frame, anc, _, _ = sock.recvmsg(96, 64)
        except (socket.timeout, InterruptedError):
            continue
        if len(frame) < 54 or frame[14] >> 4 != 4:
            continue
        ip = 14 + (frame[14] & 0x0F) * 4
        rtp = ip + 8
        if len(frame) < rtp + 12 or frame[rtp] >> 6 != 2 or frame[rtp + 1] & 0x7F != 8:
            continue
        sport, dport = struct.unpack_from("!HH", frame, ip)
        if rtp_start <= sport <= rtp_end:
            sender = "asterisk"
        elif rtp_start <= dport <= rtp_end:
            sender = "sipp"
        else:
            continue
        t = None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", data[:16])
                t = sec + nsec / 1e9
        if t is None:
            continue
        packets += 1
        seq, = struct.unpack_from("!H", frame, rtp + 2)
        ssrc, = struct.unpack_from("!I", frame, rtp + 8)
        streams.packet((sender, socket.inet_ntoa(frame[26:30]), sport, socket.inet_ntoa(frame[30:34]), dport),
                       t, seq, ssrc)
    _, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(json.dumps({"streams": streams.dump(), "drops": drops, "packets": packets,
                               "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}))


STALL_MS = 30.0  # a probe's 5 ms sleep overrunning by more than this: the machine stalled


def probe(out: Path) -> None:
    """Until SIGTERM: sleep 5 ms again and again at real-time priority (SCHED_FIFO, above
    everything measured), and keep each overrun of more than ``STALL_MS`` as ``(before,
    after)`` (the same clock as the capture's timestamps): when this probe does not run, the
    machine itself stalled (the host, the kernel), not Asterisk, whose load cannot delay a
    real-time task; then writes ``{"stalls", "cpu_s"}`` to ``out``."""
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    stopping, stalls = [], []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    out.with_suffix(".ready").write_text("")
    while not stopping:
        before = time.time()
        time.sleep(0.005)
        after = time.time()
        if (after - before - 0.005) * 1000 > STALL_MS and len(stalls) < 5000:
            stalls.append((before, after))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(json.dumps({"stalls": stalls, "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}))


class Capture:
    """``capture`` (or, given ``probe=True``, ``probe``) in a process of its own."""

    def __init__(self, out: Path, rtp: tuple[int, int] = (0, 0), probe: bool = False):
        self.out = out
        argv = ["probe", str(out)] if probe else ["capture", str(out), str(rtp[0]), str(rtp[1])]
        self.process = subprocess.Popen([sys.executable, "-m", "bench.capacity", *argv], cwd=REPO)
        wait_until(lambda: out.with_suffix(".ready").exists() or self.process.poll() is not None, 30,
                   f"the {argv[0]} started")
        if self.process.poll() is not None:
            raise RuntimeError(f"the {argv[0]} ended ({self.process.returncode}): it needs root")

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return json.loads(self.out.read_text())


# -- processor time ----------------------------------------------------------------------------
def proc_cpu_s(pid: int) -> float | None:
    """User + system seconds of ``pid`` (``/proc/<pid>/stat``), None once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuOf:
    """The processor seconds a process has used, sampled every ``interval`` until it ends
    (its last ``interval`` at most is lost)."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.seconds = pid, 0.0
        self.start = proc_cpu_s(pid) or 0.0
        self.greenlet = gevent.spawn(self._run, interval)

    def _run(self, interval: float) -> None:
        while True:
            now = proc_cpu_s(self.pid)
            if now is None:
                return
            self.seconds = now - self.start
            gevent.sleep(interval)

    def stop(self) -> float:
        now = proc_cpu_s(self.pid)
        if now is not None:
            self.seconds = now - self.start
        self.greenlet.kill()
        return self.seconds


# -- the appliance -----------------------------------------------------------------------------
def static_dialplan(agent: str) -> str:
    return f"""; Benchmark baseline: bare Asterisk, the trunk's call straight to an agent's phone.
[cc-from-trunk]
exten => {STATIC_DID},1,Dial(PJSIP/{agent},30)
 same => n,Hangup()
"""


def rtp_ports() -> tuple[int, int]:
    """The whole RTP part of this process's port block (``harness``): 600 ports, 300 pairs
    (RTP + RTCP), two a call."""
    base = harness._port_block()
    return base + harness.SINGLE_PORTS + harness.MEDIA_PORTS, base + harness.PORT_BLOCK - 1


NICE = -10


def favour_this_process() -> None:
    """This process at nice -10 (each of its threads), before it starts anything: Asterisk, the
    encoder workers and SIPp inherit it. On 2 cores shared with other jobs (a qemu boot takes
    both) a process waiting for a core stops its audio for 100-350 ms, in every stream at
    once, whatever its load: SIPp (the phones and the trunk, other machines in life) and
    Asterisk both did, at 20 calls. Both paths get the same; the box's own capacity is what is
    measured, and the processes use a fraction of a core, so the other jobs lose little."""
    for tid in os.listdir("/proc/self/task"):
        os.setpriority(os.PRIO_PROCESS, int(tid), NICE)


def stat_counts(stat_csv: Path) -> tuple[int, int]:
    """SIPp's successful and failed calls from its ``-trace_stat`` file (its last line)."""
    import csv

    try:
        rows = list(csv.reader(open(stat_csv), delimiter=";"))
        header, last = rows[0], rows[-1]
        return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])
    except (OSError, ValueError, IndexError):
        return 0, -1


def step(app, path: str, calls: int, hold_s: int, rate: float, trunk_scenario: Path, work: Path,
         answer: Sipp, attempt: int = 1) -> dict:
    """One step: ``calls`` trunk calls at ``rate`` a second, each held ``hold_s``, through
    ``path`` (``bare`` or ``full``); until every call has ended (and, on the full path, every
    recording is encoded)."""
    from appliance.db import models as m
    from bench.recorded_calls import cpu_seconds

    caller = f"139{1 if path == 'full' else 2}{attempt}{calls:06d}"
    folder = work / f"{path}-{calls}-{attempt}"
    folder.mkdir()
    cap = Capture(folder / "capture.json", (app.settings.rtp_start, app.settings.rtp_end))
    stall_probe = Capture(folder / "probe.json", probe=True)
    load_before, before, started = os.getloadavg()[0], cpu_seconds(app), time.monotonic()
    phone_cpu = CpuOf(answer.process.pid)
    sipp = Sipp(str(trunk_scenario), TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP),
                ("127.0.0.1", app.settings.sip_port), {"caller": caller, "caller_name": "Bench"}, folder,
                calls=calls, rate=rate, limit=calls, service=DID if path == "full" else STATIC_DID,
                timeout_s=int(calls / rate + hold_s + 120), extra_args=("-d", str(hold_s * 1000))).start()
    trunk_cpu = CpuOf(sipp.process.pid)
    rc = sipp.wait(calls / rate + hold_s + 180)
    trunk_s = trunk_cpu.stop()
    wait_until(lambda: not app.live.calls, 120, "every call ended")
    recordings = None
    if path == "full":
        linked = [r.linkedid for r in m.CallRecord.select().where(m.CallRecord.caller == caller)]

        def encoded():
            states = [r.state for r in m.Recording.select().where(m.Recording.linkedid.in_(linked))]
            return all(s not in ("pending", "encoding", "recording") for s in states) and states

        wait_until(encoded, 300, "the recordings encoded")
        recordings = m.Recording.select().where(m.Recording.linkedid.in_(linked),
                                                m.Recording.state == "complete").count()
    wall = time.monotonic() - started
    parts = {k: round(v - before[k], 2) for k, v in cpu_seconds(app).items()}
    phone_s = phone_cpu.stop()
    captured, stalls = cap.stop(), stall_probe.stop()["stalls"]
    successful, failed = stat_counts(folder / f"{sipp.name}-stat.csv")
    result = {"path": path, "calls": calls, "attempt": attempt, "sipp_rc": rc, "successful": successful,
              "failed": failed, "recordings_complete": recordings,
              "audio": summary(captured["streams"], calls, hold_s, stalls),
              "capture": {"packets": captured["packets"], "drops": captured["drops"], "cpu_s": captured["cpu_s"]},
              "cpu_s": parts, "appliance_cpu_s": round(sum(parts.values()), 2),
              "load_generator_cpu_s": {"trunk_sipp": round(trunk_s, 2), "phones_sipp": round(phone_s, 2)},
              "wall_s": round(wall, 1), "load_average": round((load_before + os.getloadavg()[0]) / 2, 2)}
    result["clean"] = clean(result)
    return result


def register_agents(app, work: Path, agents: list[str], agent_scenario: Path) -> Sipp:
    from bench.mixed_load import register_phones

    answer = register_phones(app, work, agents, str(agent_scenario))
    for ext in agents:
        app.agents.login(ext)
    wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == "free" for a in agents),
               120, "agents free")
    return answer


def run(hold_s: int = 60, rate: float = 5.0, steps: tuple[int, ...] = STEPS) -> Path:
    from bench.call_path import configure
    from bench.recorded_calls import start_encoder

    favour_this_process()
    rtp = rtp_ports()
    app, settings, work = new_appliance("capacity", rtp_start=rtp[0], rtp_end=rtp[1])
    agents = [str(3001 + i) for i in range(max(steps))]
    answer, results = None, {"bare": [], "full": []}
    try:
        configure(app, DID, agents)
        custom = settings.asterisk_dir / "etc" / "custom"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "extensions.conf").write_text(static_dialplan(agents[0]))
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        trunk_scenario, agent_scenario = scenarios(work, hold_s)
        answer = register_agents(app, work, agents, agent_scenario)
        start_encoder(app, work)
        app.config.update("recording_rules", "inbound", {"recording": "force"}, actor="bench")
        for calls in steps:
            for path in ("bare", "full"):
                for attempt in (1, 2):
                    if stopped(results[path]):
                        break
                    results[path].append(step(app, path, calls, hold_s, rate, trunk_scenario, work, answer, attempt))
                    print(json.dumps(results[path][-1]), flush=True)
                    wait_until(lambda: all(app.live.agents[a].state == "free" for a in agents), 60,
                               "agents free again")
                    if results[path][-1]["clean"]:
                        break
            if all(stopped(r) for r in results.values()):
                break
    finally:
        if answer is not None:
            answer.stop()
        app.stop()
    return write_results("capacity", figures(results, hold_s, rate, steps))


def stopped(steps: list[dict]) -> bool:
    """A path stops when a step is not clean twice in a row (once may be another job's burst
    on the shared machine: the step is run again)."""
    return len(steps) >= 2 and not steps[-1]["clean"] and not steps[-2]["clean"] \
        and steps[-1]["calls"] == steps[-2]["calls"]


def highest_clean(steps: list[dict]) -> dict | None:
    good = [s for s in steps if s["clean"]]
    return max(good, key=lambda s: s["calls"]) if good else None


def per_core(s: dict | None, hold_s: int) -> float:
    if not s or not s["appliance_cpu_s"]:
        return float("nan")
    return BUSY * s["calls"] * hold_s / s["appliance_cpu_s"]


def figures(results: dict[str, list[dict]], hold_s: int, rate: float, steps: tuple[int, ...]) -> list[dict]:
    bare, full = highest_clean(results["bare"]), highest_clean(results["full"])
    bare_top = bare["calls"] if bare else 0
    full_top = full["calls"] if full else 0
    bare_ran_out = bool(results["bare"]) and not stopped(results["bare"])
    common = {"hold_s": hold_s, "rate_per_s": rate, "steps": list(steps), "packet_ms": 20, "codec": "G.711 A-law",
              "gap": f"more than {GAP_MS:.0f} ms between two packets Asterisk sent, or {LOST_IN_A_ROW} or more "
                     "lost in a row (kernel timestamps on the loopback)",
              "machine_note": f"{os.cpu_count()} cores shared with other jobs, on the host (not under qemu)"}
    return [
        figure("capacity ratio", full_top / bare_top if bare_top else float("nan"), "x", goal=0.9,
               full_path_calls=full_top, bare_asterisk_calls=bare_top,
               lower_bound=bare_ran_out,  # bare Asterisk was clean at every step run: its real top is higher
               full_path=results["full"], bare_asterisk=results["bare"], **common),
        figure("recorded calls per core", per_core(full, hold_s), "calls", goal=125, at_calls=full_top,
               counted="Asterisk + the supervisor + its MP3 encoders, first INVITE to last MP3; "
                       "SIPp and the capture not counted",
               cpu_s=full["cpu_s"] if full else None,
               load_generator_cpu_s=full["load_generator_cpu_s"] if full else None,
               load_average=full["load_average"] if full else None,
               bare_asterisk_calls_per_core=round(per_core(bare, hold_s), 1), **common),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "capture":
        capture(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]))
    else:
        args = sys.argv[1:]
        print(run(*([int(args[0])] if args else []), *([float(args[1])] if len(args) > 1 else []),
                  *([tuple(int(s) for s in args[2].split(","))] if len(args) > 2 else [])).read_text())
