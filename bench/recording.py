"""Benchmark: what a recording costs, on the disk and on the processor.

The audio is real speech: the 7 s of G.711 A-law in SIPp's ``g711a.pcap`` (the same the call
tests play), decoded to 16-bit PCM and repeated to length, written as the WAV MixMonitor
writes (8 kHz, 16-bit, mono). Each job goes through the appliance's own job
(``appliance.recording.worker.encode_job``: encode, fsync, read back, verify, rename).
Figures:

- ``mp3 bytes per second``: MP3 bytes per second of audio, for calls of 60 s and 10 min
  (the seeds ask about 1 KB/s: "60 s ~ 59 KB");
- ``encode x realtime per core``: seconds of audio encoded (and verified) per second of
  processor time of the one process doing it, so the figure is per core whatever else runs;
  the median of three runs, with two baselines measured in the same run (the machine is
  shared, so only ratios compare across runs): lameenc alone on the same samples in memory
  at the same settings (what the job adds: reading, writing, hashing, the read-back check),
  and the job at LAME's ``-q 2``, the default before issue 23;
- ``worker pool x realtime``: the same through the appliance's pool of worker processes
  (one per core less one), 8 calls of 10 min, in wall-clock time.

Not a test: it asserts nothing, it measures. N concurrent recorded SIPp calls (files present,
durations, CPU against the same calls unrecorded) are ``bench/recorded_calls.py``.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
import wave
from pathlib import Path

import gevent

from appliance.recording import mp3
from appliance.recording.pipeline import ProcessPool, default_workers
from appliance.recording.worker import encode_job
from bench.common import figure, median, write_results

SPEECH_PCAP = Path("/usr/share/sip-tester/g711a.pcap")


def alaw_to_linear(code: int) -> int:
    """One G.711 A-law byte to a 16-bit sample (ITU-T G.711)."""
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    value += 8 if segment == 0 else 0x108
    if segment > 1:
        value <<= segment - 1
    return value if code & 0x80 else -value


def speech_pcm(pcap: Path = SPEECH_PCAP) -> bytes:
    """The A-law RTP payloads of a pcap (Ethernet/IPv4/UDP) as 16-bit little-endian PCM."""
    table = [struct.pack("<h", alaw_to_linear(b)) for b in range(256)]
    data, out, pos = pcap.read_bytes(), bytearray(), 24
    while pos + 16 <= len(data):
        length = struct.unpack_from("<I", data, pos + 8)[0]
        frame = data[pos + 16:pos + 16 + length]
        pos += 16 + length
        ip = frame[14:]
        if len(ip) < 20 or ip[9] != 17:
            continue
        rtp = ip[(ip[0] & 0x0F) * 4 + 8:]
        if len(rtp) > 12 and rtp[1] & 0x7F == 8:  # PCMA
            out += b"".join(table[b] for b in rtp[12:])
    return bytes(out)


def write_call(path: Path, seconds: int, speech: bytes) -> Path:
    need = seconds * 16000
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes((speech * (need // len(speech) + 1))[:need])
    return path


def encode(folder: Path, name: str, seconds: int, speech: bytes, **job) -> tuple[dict, float]:
    wav = write_call(folder / f"{name}.wav", seconds, speech)
    started = time.process_time()
    result = encode_job({"id": name, "wav": str(wav), "mp3": str(folder / f"{name}.mp3"), **job})
    return result, time.process_time() - started


def lame_alone(pcm: bytes, quality: int, chunk_seconds: int = 10) -> float:
    """Processor seconds lameenc takes for ``pcm`` (8 kHz mono) in memory: no file, no check."""
    encoder = mp3.make_encoder(8000, mp3.DEFAULT_BITRATE_KBPS, quality)
    step = 16000 * chunk_seconds
    started = time.process_time()
    for start in range(0, len(pcm), step):
        encoder.encode(pcm[start:start + step])
    encoder.flush()
    return time.process_time() - started


def encode_speed(folder: Path, seconds: int, speech: bytes, runs: int = 3) -> dict:
    """Medians over ``runs`` of: the job now, lameenc alone at its settings, the job at -q 2."""
    pcm = (speech * (seconds * 16000 // len(speech) + 1))[:seconds * 16000]
    job, alone, before = [], [], []
    for run in range(runs):
        result, cpu = encode(folder, f"speed{run}", seconds, speech)
        assert result["ok"], result
        job.append(cpu)
        alone.append(lame_alone(pcm, mp3.DEFAULT_QUALITY))
        result, cpu = encode(folder, f"q2-{run}", seconds, speech, quality=2)
        assert result["ok"], result
        before.append(cpu)
    return {"job": median(job), "alone": median(alone), "before": median(before),
            "runs_x": [round(seconds / c) for c in job]}


def run() -> Path:
    speech = speech_pcm()
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as tmp:
        folder = Path(tmp)
        for seconds in (60, 600):
            result, _ = encode(folder, f"size{seconds}", seconds, speech)
            assert result["ok"], result
            figures.append(figure("mp3 bytes per second", result["bytes"] / seconds, "bytes/s",
                                  call_seconds=seconds, mp3_bytes=result["bytes"],
                                  bitrate_kbps=mp3.DEFAULT_BITRATE_KBPS))
        speed = encode_speed(folder, 1800, speech)
        figures.append(figure("encode x realtime per core", 1800 / speed["job"], "x", audio_seconds=1800,
                              cpu_seconds=round(speed["job"], 3), includes="encode, fsync, read back, verify",
                              quality=mp3.DEFAULT_QUALITY, runs_x=speed["runs_x"],
                              lameenc_alone_x=round(1800 / speed["alone"], 1),
                              share_of_lameenc_alone=round(speed["alone"] / speed["job"], 3),
                              at_quality_2_x=round(1800 / speed["before"], 1),
                              ratio_to_quality_2=round(speed["before"] / speed["job"], 3)))

        workers = default_workers()
        pool = ProcessPool(workers)
        jobs = [{"id": i, "wav": str(write_call(folder / f"pool{i}.wav", 600, speech)),
                 "mp3": str(folder / f"pool{i}.mp3")} for i in range(8)]
        try:
            started = time.monotonic()
            results = [g.get() for g in [gevent.spawn(pool.encode, job) for job in jobs]]
            wall = time.monotonic() - started
        finally:
            pool.close()
        assert all(r["ok"] for r in results), results
        figures.append(figure("worker pool x realtime", 8 * 600 / wall, "x", workers=workers,
                              cores=os.cpu_count(), audio_seconds=8 * 600, wall_seconds=round(wall, 3)))
    return write_results("recording", figures)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    print(run().read_text())
