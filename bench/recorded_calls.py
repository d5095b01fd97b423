"""Benchmark: N concurrent recorded calls through the whole appliance.

N SIPp trunk calls arrive together into a queue of N auto-answering SIPp agents and talk
for ``talk_seconds``; both sides send speech RTP the whole time (SIPp's 7 s ``g711a.pcap``
made into one longer stream), as real phones do.  The same batch runs
twice in one appliance: with inbound recording ``never`` (the baseline) and ``force``.
Figures:

- ``recorded calls``: calls answered in the recorded batch, and ``recordings complete``:
  how many of them have their MP3, verified by checksum, linked to the call;
- ``duration error max``: the largest gap between a recording's length and the call's talk
  time (the issue asks for ±1 s);
- ``cpu recording on / off``: processor seconds of Asterisk, the appliance process and its
  encoder workers for the batch (until the last MP3 is written), recorded over unrecorded,
  as a ratio in the same run (these machines are noisy). Where the extra goes is measured
  apart, each process on its own and with two more batches in the same run: MixMonitor
  running on a file no format writes (its audio hook and thread without
  the WAV writing, the settling or an encode), and recording with LAME's ``-q 2`` (the
  encoder before issue 23), so ``extra_s`` splits the extra seconds into MixMonitor's
  machinery, its WAV writing, the appliance (FastAGI, settling, database) and the encoders.
  The encoder worker is started before the batches (its start is once per appliance run).
  Each batch also profiles Asterisk while its calls talk (``bench.asterisk_threads``: processor
  time per call-second by kind of thread, context switches, system calls, wake-ups):
  ``talk_per_call_second`` and ``talk_extra_per_call_second`` (recorded less unrecorded);
- with ``BENCH_MIXMONITOR_SO=<app_mixmonitor.so>``, one more batch recorded through that build
  of MixMonitor in place of Debian's (``patched_mixmonitor``: its ratio to the same run's
  unrecorded batch, its profile, and whether its recordings are complete and the right length),
  e.g. ``bench/asterisk/app_mixmonitor-paced.patch`` built as docs/recording.md says.

Not a test: it measures. ``python -m bench.recorded_calls [calls] [talk_seconds]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import shutil
import socket
import struct
import sys
import time
from pathlib import Path

import gevent
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import SCENARIOS, TRUNK_IP, Phone, Sipp, free_port, wait_until  # noqa: E402

from appliance.db import models as m  # noqa: E402
from bench import asterisk_threads  # noqa: E402
from bench.call_path import configure  # noqa: E402
from bench.common import figure, new_appliance, write_results  # noqa: E402

DID = "88001000"
SPEECH_PCAP = Path("/usr/share/sip-tester/g711a.pcap")


def long_speech_pcap(path: Path, seconds: float) -> Path:
    """SIPp's 7 s of speech played back to back for ``seconds``: one RTP stream (sequence
    numbers and timestamps carried on, UDP checksums cleared), so both sides of a bench call
    send audio all the time, as real phones do."""
    data = SPEECH_PCAP.read_bytes()
    header, frames, pos = data[:24], [], 24
    while pos + 16 <= len(data):
        sec, usec, length, _ = struct.unpack_from("<IIII", data, pos)
        frames.append((sec + usec / 1e6, data[pos + 16:pos + 16 + length]))
        pos += 16 + length
    start, span = frames[0][0], frames[-1][0] - frames[0][0] + 0.02
    out, seq, rounds = bytearray(header), 1, math.ceil(seconds / span)
    for k in range(rounds):
        for when, frame in frames:
            udp = 14 + (frame[14] & 0x0F) * 4
            rtp = udp + 8
            if len(frame) < rtp + 12:
                continue
            ts = struct.unpack_from("!I", frame, rtp + 4)[0] + int(k * span * 8000)
            frame = bytearray(frame)
            struct.pack_into("!H", frame, udp + 6, 0)
            struct.pack_into("!HI", frame, rtp + 2, seq & 0xFFFF, ts & 0xFFFFFFFF)
            seq += 1
            t = when - start + k * span
            out += struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


def talking_scenarios(folder: Path, talk_seconds: int) -> tuple[Path, Path]:
    """trunk_call.xml and agent_phone_answer.xml sending speech for the whole talk time."""
    pcap = long_speech_pcap(folder / f"speech{talk_seconds}.pcap", talk_seconds + 5)
    made = []
    for name in ("trunk_call.xml", "agent_phone_answer.xml"):
        text = (SCENARIOS / name).read_text()
        assert str(SPEECH_PCAP) in text, f"{name} changed: it no longer plays {SPEECH_PCAP}"
        made.append(folder / f"{Path(name).stem}_talk{talk_seconds}.xml")
        made[-1].write_text(text.replace(str(SPEECH_PCAP), str(pcap)))
    return made[0], made[1]


def cpu_seconds(app) -> dict[str, float]:
    """User + system seconds of Asterisk, this process and its encoder workers (not SIPp),
    each apart: ``asterisk`` (MixMonitor's audio hooks and WAV writing happen there),
    ``appliance`` (FastAGI, AMI, the database, settling the WAV), ``encoders``."""
    me = psutil.Process()
    groups = {"asterisk": [], "appliance": [me], "encoders": [p for p in me.children(recursive=True)
                                                              if "appliance.recording.worker" in " ".join(_cmdline(p))]}
    if app.pbx.pid:
        groups["asterisk"].append(psutil.Process(app.pbx.pid))
    totals = {}
    for group, procs in groups.items():
        totals[group] = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                totals[group] += t.user + t.system
            except psutil.NoSuchProcess:
                continue
    return totals


def _cmdline(p) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def batch(app, scenario: Path, calls: int, talk_seconds: int, work: Path, caller: str) -> dict:
    before = cpu_seconds(app)
    started = time.monotonic()
    talk = gevent.spawn(talk_window, app.pbx.pid, calls, talk_seconds, asterisk_threads.thread_ids(app.pbx.pid))
    sipp = Sipp(str(scenario), TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP),
                ("127.0.0.1", app.settings.sip_port), {"caller": caller, "caller_name": "Bench"},
                work / "sipp", calls=calls, rate=calls, limit=calls, service=DID, timeout_s=600,
                extra_args=("-d", str(talk_seconds * 1000)))
    rc = sipp.run(timeout=600)
    records = wait_until(lambda: _records(caller, calls), 60, "the batch's call records")

    def encoded():
        states = [r.state for r in m.Recording.select().where(m.Recording.linkedid.in_([c.linkedid for c in records]))]
        return all(s != "pending" and s != "encoding" and s != "recording" for s in states)

    wait_until(encoded, 300, "the recordings encoded")
    after = cpu_seconds(app)
    parts = {k: after[k] - before.get(k, 0.0) for k in after}
    return {"rc": rc, "records": records, "cpu": sum(parts.values()), "parts": parts,
            "wall": time.monotonic() - started, "talk": talk.get(), "load": os.getloadavg()}


def talk_window(pid: int, calls: int, talk_seconds: int, threads_before: set[int]) -> dict:
    """Asterisk's threads while every call of the batch talks: from a quarter of the talk time
    (all answered) for half of it (``bench.asterisk_threads``)."""
    gevent.sleep(talk_seconds / 4)
    return asterisk_threads.talk_window(pid, calls, talk_seconds / 2, threads_before)


def extra(on: dict, off: dict) -> dict:
    """What recording adds per call-second of talk: each measure of ``on`` less ``off``."""
    return {k: round(on[k] - off[k], 3) for k in on
            if isinstance(on[k], (int, float)) and isinstance(off.get(k), (int, float))
            and k not in ("window_s", "kernel_share")}


@contextlib.contextmanager
def mixmonitor_module(app, built: Path):
    """Asterisk's ``app_mixmonitor`` swapped for another build of it (``built``, a .so made
    against the same Asterisk's headers, e.g. ``bench/asterisk/app_mixmonitor-paced.patch``)
    for one batch: copied into the instance folder, loaded by a path relative to the module
    folder (the loader only takes those), and Debian's module back afterwards."""
    copy = app.pbx.instance_dir / built.name
    shutil.copy(built, copy)
    relative = os.path.relpath(f"{app.pbx.inner_root}/{built.name}", app.pbx.paths.modules)
    app.pbx.cli("module unload app_mixmonitor.so")
    try:
        loaded = app.pbx.cli(f"module load {relative}")
        assert "Loaded" in loaded, loaded
        yield relative
    finally:
        app.pbx.cli(f"module unload {relative}")
        app.pbx.cli("module load app_mixmonitor.so")


def start_encoder(app, work: Path) -> None:
    """Have the encoder worker running before the batches, as it is on an appliance that has
    recorded since it started: its one-off start (Python and lameenc, about 0.07 s of
    processor time) is not a cost of the calls measured."""
    from bench.recording import speech_pcm, write_call

    wav = write_call(work / "warm-up.wav", 1, speech_pcm())
    result = app.encoders.encode({"id": 0, "wav": str(wav), "mp3": str(work / "warm-up.mp3")})
    assert result["ok"], result


def rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in seconds.items()}


@contextlib.contextmanager
def mixmonitor_writing_nowhere(app):
    """Recording decided and MixMonitor started as usual, but on a file whose extension no
    Asterisk format writes (``<linkedid>.nofile`` in the spool): MixMonitor cannot open it
    ("Cannot open") and runs its audio hook and thread all the same, writing nothing, and
    creating nothing (a folder that does not exist would not do: MixMonitor makes it, and
    writes there). The pipeline finds no WAV (``missing``, logged quietly here), so nothing
    is settled or encoded either."""
    service, quiet = app.recordings, logging.getLogger("appliance.recording.pipeline")
    started, level = service.call_started, quiet.level

    def call_started(*args, **kwargs):
        start = started(*args, **kwargs)
        return start and dataclasses.replace(start, path=str(Path(start.path).with_suffix(".nofile")))

    service.call_started = call_started
    quiet.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        del service.call_started
        quiet.setLevel(level)


def recorded(batch_done: dict) -> tuple[list, list, list[float]]:
    """A recorded batch's answered calls, those with a complete, checksummed recording, and
    each such recording's gap to the call's talk time (seconds)."""
    answered = [r for r in batch_done["records"] if r.talk_seconds > 0]
    recordings = {r.linkedid: r for r in m.Recording.select().where(
        m.Recording.linkedid.in_([r.linkedid for r in answered]))}
    complete = [r for r in answered if r.linkedid in recordings and recordings[r.linkedid].state == "complete"
                and recordings[r.linkedid].sha256]
    return answered, complete, [abs(recordings[r.linkedid].duration_seconds - r.talk_seconds) for r in complete]


def patched_figures(patched: dict, off: dict) -> dict:
    """The batch recorded through another build of app_mixmonitor, against the same run's
    unrecorded batch: what that change to Asterisk would give, and what it costs the files."""
    answered, complete, errors = recorded(patched)
    return {"module": patched["module"], "ratio": round(patched["cpu"] / off["cpu"], 3) if off["cpu"] else None,
            "asterisk_talk_ratio": round(patched["talk"]["asterisk_ms"] / off["talk"]["asterisk_ms"], 3)
            if off["talk"]["asterisk_ms"] else None,
            "s": rounded(patched["parts"]), "talk_per_call_second": patched["talk"],
            "recordings_complete": len(complete), "calls_answered": len(answered),
            "duration_error_max": round(max(errors), 3) if errors else None, "load": rounded_load(patched)}


def rounded_load(batch_done: dict) -> list[float]:
    """The machine's load average (1, 5, 15 minutes) as the batch ended."""
    return [round(x, 1) for x in batch_done["load"]]


def _records(caller: str, calls: int):
    rows = list(m.CallRecord.select().where(m.CallRecord.caller == caller, m.CallRecord.end_time.is_null(False)))
    return rows if len(rows) >= calls else None


def run(calls: int = 10, talk_seconds: int = 20) -> Path:
    app, settings, work = new_appliance("recorded-calls")
    agents = [str(3001 + i) for i in range(calls)]
    phones = []
    try:
        configure(app, DID, agents)
        cfg = app.config
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        caller_scenario, agent_scenario = talking_scenarios(work, talk_seconds)
        for ext in agents:
            phones.append(Phone(ext, f"pw-{ext}-bench", ("127.0.0.1", settings.sip_port), work / "sipp",
                                ring_ms=0, calls=5, scenario=str(agent_scenario)).start())
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == "free" for a in agents),
                   30, "agents free")
        start_encoder(app, work)
        cfg.update("recording_rules", "inbound", {"recording": "never"}, actor="bench")
        off = batch(app, caller_scenario, calls, talk_seconds, work, "13900000000")
        wait_until(lambda: all(app.live.agents[a].state == "free" for a in agents), 60, "agents free again")
        cfg.update("recording_rules", "inbound", {"recording": "force"}, actor="bench")
        on = batch(app, caller_scenario, calls, talk_seconds, work, "13910000000")
        wait_until(lambda: all(app.live.agents[a].state == "free" for a in agents), 60, "agents free again")
        with mixmonitor_writing_nowhere(app):
            no_file = batch(app, caller_scenario, calls, talk_seconds, work, "13920000000")
        wait_until(lambda: all(app.live.agents[a].state == "free" for a in agents), 60, "agents free again")
        config = app.pipeline.config
        app.pipeline.config = dataclasses.replace(config, quality=2)
        try:
            before = batch(app, caller_scenario, calls, talk_seconds, work, "13930000000")
        finally:
            app.pipeline.config = config
        patched = None
        if os.environ.get("BENCH_MIXMONITOR_SO"):
            built = Path(os.environ["BENCH_MIXMONITOR_SO"]).resolve()
            wait_until(lambda: all(app.live.agents[a].state == "free" for a in agents), 60, "agents free again")
            with mixmonitor_module(app, built):
                patched = batch(app, caller_scenario, calls, talk_seconds, work, "13940000000")
            patched["module"] = built.name
    finally:
        for phone in phones:
            phone.stop()
        app.stop()

    answered, complete, errors = recorded(on)
    unrecorded = m.Recording.select().where(m.Recording.linkedid.in_([r.linkedid for r in off["records"]]),
                                            m.Recording.state == "complete").count()
    figures = [
        figure("recorded calls", len(answered), "calls", offered=calls, talk_seconds=talk_seconds,
               sipp_rc=on["rc"]),
        figure("recordings complete", len(complete), "files", calls_answered=len(answered)),
        figure("duration error max", max(errors) if errors else float("nan"), "s",
               mean=round(sum(errors) / len(errors), 3) if errors else None, limit=1.0),
        figure("cpu recording on / off", on["cpu"] / off["cpu"] if off["cpu"] else float("nan"), "x",
               cpu_on_s=round(on["cpu"], 2), cpu_off_s=round(off["cpu"], 2), recordings_when_off=unrecorded,
               counted="Asterisk + appliance process + encoder workers, until the last MP3 is written",
               on_s=rounded(on["parts"]), off_s=rounded(off["parts"]), no_file_s=rounded(no_file["parts"]),
               extra_s=rounded({
                   "mixmonitor_without_file": no_file["parts"]["asterisk"] - off["parts"]["asterisk"],
                   "wav_writing": on["parts"]["asterisk"] - no_file["parts"]["asterisk"],
                   "appliance_fastagi_settling_db": on["parts"]["appliance"] - off["parts"]["appliance"],
                   "encoders": on["parts"]["encoders"]}),
               mixmonitor_without_file_ratio=round(no_file["cpu"] / off["cpu"], 3) if off["cpu"] else None,
               at_quality_2_ratio=round(before["cpu"] / off["cpu"], 3) if off["cpu"] else None,
               at_quality_2_s=rounded(before["parts"]),
               wall_on_s=round(on["wall"], 2), wall_off_s=round(off["wall"], 2),
               asterisk_talk_ratio=round(on["talk"]["asterisk_ms"] / off["talk"]["asterisk_ms"], 3)
               if off["talk"]["asterisk_ms"] else None,
               talk_per_call_second={"off": off["talk"], "on": on["talk"], "no_file": no_file["talk"]},
               talk_extra_per_call_second=extra(on["talk"], off["talk"]),
               load={"off": rounded_load(off), "on": rounded_load(on), "no_file": rounded_load(no_file)},
               **({"patched_mixmonitor": patched_figures(patched, off)} if patched else {})),
    ]
    return write_results("recorded-calls", figures)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    args = [int(a) for a in sys.argv[1:3]]
    print(run(*args).read_text())
