"""Prompt audio converted with numpy, a block at a time: the same 8 kHz result as the pure
Python converter it replaced (kept here as the reference), at any rate, width and channel
count, and a valid 20 MB WAV converted in well under 100 MB (the lists of floats took
2.8 GB)."""

from __future__ import annotations

import io
import math
import tracemalloc
import wave
from array import array

import numpy as np
import pytest

from appliance import prompts
from appliance.prompts import RATE, convert_wav


def tone_wav(seconds: float, rate: int, channels: int, width: int, amplitude: float = 0.5) -> bytes:
    """A 440 Hz tone with its third harmonic and a slow 3 kHz chirp (energy the low-pass must
    take out), the channels slightly different."""
    t = np.arange(int(seconds * rate)) / rate
    base = amplitude * (0.6 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 1320 * t)
                        + 0.15 * np.sin(2 * np.pi * (3000 + 500 * t) * t))
    frames = np.stack([base * (1 - 0.1 * c) for c in range(channels)], axis=1).reshape(-1)
    scale = 2 ** (8 * width - 1) - 1
    ints = np.round(frames * scale).astype(np.int64)
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
    elif width == 3:
        raw = np.stack([(ints >> s) & 0xFF for s in (0, 8, 16)], axis=1).astype(np.uint8).tobytes()
    else:
        raw = ints.astype("<i2" if width == 2 else "<i4").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return buf.getvalue()


def reference(data: bytes) -> tuple[list[int], float]:
    """The converter as it was (plain Python lists), for comparison: the 8 kHz samples and
    the gain it added."""
    with wave.open(io.BytesIO(data)) as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:
        flat = [(b - 128) / 128.0 for b in raw]
    elif width == 3:
        flat = [int.from_bytes(raw[i:i + 3], "little", signed=True) / 8388608.0 for i in range(0, len(raw) - 2, 3)]
    else:
        a = array("h" if width == 2 else "i")
        a.frombytes(raw)
        flat = [x / (32768.0 if width == 2 else 2147483648.0) for x in a]
    mono = flat if channels == 1 else [sum(flat[i:i + channels]) / channels
                                       for i in range(0, len(flat) - channels + 1, channels)]
    if rate != RATE:
        window = max(1, round(rate / RATE))
        if window > 1:
            prefix = [0.0]
            for x in mono:
                prefix.append(prefix[-1] + x)
            n, half = len(mono), window // 2
            mono = [(prefix[min(n, i + window - half)] - prefix[max(0, i - half)]) / window for i in range(n)]
        step = rate / RATE
        out = []
        for j in range(int(len(mono) / step)):
            pos = j * step
            i = int(pos)
            nxt = mono[i + 1] if i + 1 < len(mono) else mono[i]
            out.append(mono[i] + (nxt - mono[i]) * (pos - i))
        mono = out
    peak = max(abs(x) for x in mono)
    gain_db = 0.0
    if 20 * math.log10(peak) < prompts.QUIET_PEAK_DBFS:
        gain_db = min(prompts.MAX_GAIN_DB, prompts.TARGET_PEAK_DBFS - round(20 * math.log10(peak), 1))
        mono = [x * 10 ** (gain_db / 20) for x in mono]
    return [max(-32768, min(32767, int(round(x * 32767)))) for x in mono], gain_db


def samples_of(wav_bytes: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int64)


def rms_db(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return 20 * math.log10(math.sqrt(float(np.mean(x * x))))


@pytest.mark.parametrize("rate, channels, width, amplitude", [
    (44100, 2, 2, 0.5), (48000, 1, 2, 0.5), (22050, 1, 1, 0.5), (16000, 2, 3, 0.5), (11025, 1, 4, 0.5),
    (8000, 1, 2, 0.5), (4000, 1, 2, 0.5), (12000, 3, 2, 0.5), (96000, 2, 2, 0.02),  # quiet: raised
])
def test_the_same_result_as_the_pure_python_converter(rate, channels, width, amplitude, monkeypatch):
    monkeypatch.setattr(prompts, "BLOCK", 3000)  # several blocks even in a short file: their seams are tested
    data = tone_wav(1.3, rate, channels, width, amplitude)
    got = convert_wav(data)
    want, gain_db = reference(data)
    samples = samples_of(got.wav)
    assert len(samples) == len(want) and got.gain_db == pytest.approx(gain_db, abs=0.05)
    assert int(np.max(np.abs(samples - np.array(want)))) <= 1  # a rounding tie at most
    assert rms_db(samples) == pytest.approx(rms_db(want), abs=0.01)
    assert got.rms_dbfs == pytest.approx(rms_db(np.array(want) / 32767), abs=0.1)


def test_a_20_mb_wav_converts_in_well_under_100_mb():
    data = tone_wav(104, 48000, 2, 2)  # 48 kHz stereo: 20 MB, 104 s
    assert len(data) > 19_900_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        got = convert_wav(data)
        peak = tracemalloc.get_traced_memory()[1] - before  # numpy's buffers are traced too
    finally:
        tracemalloc.stop()
    assert peak < 100 * 1024 * 1024, f"{peak / 2**20:.0f} MB"
    assert got.duration_seconds == pytest.approx(104, abs=0.01) and got.source_rate == 48000
    # it still sounds the same: its first seconds match the reference converter's on the same tone
    want, _ = reference(tone_wav(2, 48000, 2, 2))
    start = samples_of(got.wav)[:len(want) - 1]  # (the reference's last sample has no successor)
    assert int(np.max(np.abs(start - np.array(want[:-1])))) <= 1
    assert rms_db(start) == pytest.approx(rms_db(want[:-1]), abs=0.01)
