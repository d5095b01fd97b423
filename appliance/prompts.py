"""Prompts: turning an uploaded recording into what Asterisk plays (pure, no database).

``convert_wav(data)`` reads a PCM WAV of any common rate, width and channel count, mixes
it to mono, resamples it to 8 kHz (a moving-average low-pass, then linear interpolation:
good enough for speech on a phone line), measures its level, refuses it when it is silent
or unreadable, raises a quiet one to a peak of -3 dBFS, and returns a 16-bit 8 kHz mono
WAV, the format Asterisk's ``format_wav`` plays without transcoding.

The arithmetic is numpy's, a block of output at a time (``BLOCK`` samples, read from the
upload with ``wave``'s ``setpos``/``readframes``): only the 8 kHz result is held whole.  As
lists of Python floats a valid 20 MB WAV cost 2.8 GB; now it costs a few tens of MB.

An MP3 is first walked frame by frame (``check_mp3``: our own header parser from the
recordings, no I/O), so a damaged or cut-short file is refused with ``prompt.corrupt``
before anything runs on it; decoding it is the caller's business (``services.prompts``
runs mpg123 from the rootfs) and the WAV that comes out takes the same path as an upload.
See docs/architecture.md.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a conversion runs: not on the appliance's start-up (docs/operations.md, "Boot time")
    import numpy as np

RATE = 8000
MAX_SECONDS = 300
MIN_SECONDS = 0.2
SILENT_PEAK_DBFS = -45.0  # nothing louder than this: refused as silent
QUIET_PEAK_DBFS = -12.0  # a peak below this is raised to TARGET_PEAK_DBFS
TARGET_PEAK_DBFS = -3.0
MAX_GAIN_DB = 30.0
BLOCK = 65536  # output samples computed at a time (8 s at 8 kHz)


class PromptError(ValueError):
    """An upload that cannot become a prompt; ``code`` is a stable id."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Converted:
    wav: bytes  # 8 kHz, mono, 16-bit PCM
    duration_seconds: float
    source_rate: int
    source_channels: int
    peak_dbfs: float  # after any gain
    rms_dbfs: float
    gain_db: float  # what was added to bring a quiet recording up


def _dbfs(value: float) -> float:
    return round(20 * math.log10(value), 1) if value > 0 else -120.0


def looks_like_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


ID3V1_SIZE = 128  # an ID3v1 tag ("TAG" + 125 bytes) that many players append


@dataclass(frozen=True)
class Mp3Source:
    sample_rate: int
    channels: int
    seconds: float


def check_mp3(data: bytes) -> Mp3Source:
    """What an uploaded MP3 holds, or ``PromptError`` (``prompt.corrupt``) when its frames do not
    walk cleanly from the first to the last byte: damaged in the middle, cut short, not MP3."""
    from appliance.recording.mp3 import FrameScanner

    if len(data) >= ID3V1_SIZE and data[-ID3V1_SIZE:-ID3V1_SIZE + 3] == b"TAG":
        data = data[:-ID3V1_SIZE]
    scanner = FrameScanner()
    scanner.feed(data)
    scan = scanner.result()
    if scan.problem:
        raise PromptError(f"not a readable MP3 file: {scan.problem}", "prompt.corrupt")
    if scan.seconds > MAX_SECONDS:
        raise PromptError(f"the recording is too long ({scan.seconds:.0f} s, at most {MAX_SECONDS})",
                          "prompt.too_long")
    return Mp3Source(scan.sample_rate, 1 if scanner.first_header.mono else 2, scan.seconds)


def _samples(raw: bytes, width: int) -> np.ndarray:
    """PCM bytes -> float64 in [-1, 1)."""
    import numpy as np

    if width == 1:  # unsigned 8-bit
        return (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) / 128.0
    if width == 2:
        return np.frombuffer(raw, "<i2", len(raw) // 2) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, np.uint8, len(raw) // 3 * 3).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(value >= 1 << 23, value - (1 << 24), value) / 8388608.0
    if width == 4:
        return np.frombuffer(raw, "<i4", len(raw) // 4) / 2147483648.0
    raise PromptError(f"{width * 8}-bit samples are not supported", "prompt.unsupported_format")


class _Mono:
    """The upload's frames ``[lo, hi)`` mixed to mono, read from the WAV on demand."""

    def __init__(self, w: wave.Wave_read, channels: int, width: int):
        self.w, self.channels, self.width = w, channels, width

    def __call__(self, lo: int, hi: int) -> np.ndarray:
        self.w.setpos(lo)
        flat = _samples(self.w.readframes(hi - lo), self.width)
        if self.channels == 1:
            return flat
        return flat[: len(flat) // self.channels * self.channels].reshape(-1, self.channels).sum(axis=1) / self.channels


def _resample(mono: _Mono, n: int, rate: int) -> np.ndarray:
    """``n`` frames at ``rate`` -> 8 kHz: each output sample is the moving average over one
    output period around its position, linearly interpolated between the two nearest input
    samples, computed a block at a time (the sums of a block's span of input, not a prefix
    sum of the whole file)."""
    import numpy as np

    if rate == RATE:
        out = np.empty(n)
        for lo in range(0, n, BLOCK):
            out[lo:lo + BLOCK] = mono(lo, min(n, lo + BLOCK))
        return out
    window = max(1, round(rate / RATE))
    half = window // 2
    step = rate / RATE
    out = np.empty(int(n / step))
    for j0 in range(0, len(out), BLOCK):
        pos = np.arange(j0, min(len(out), j0 + BLOCK), dtype=np.float64) * step
        i = pos.astype(np.int64)
        frac = pos - i
        nxt = np.minimum(i + 1, n - 1)
        lo = max(0, int(i[0]) - half)
        hi = min(n, int(nxt[-1]) + window - half)
        samples = mono(lo, hi)
        if window == 1:  # not faster than 8 kHz by half: no smoothing
            a, b = samples[i - lo], samples[nxt - lo]
        else:
            span = np.concatenate(([0.0], np.cumsum(samples)))
            a = (span[np.minimum(n, i + window - half) - lo] - span[np.maximum(0, i - half) - lo]) / window
            b = (span[np.minimum(n, nxt + window - half) - lo] - span[np.maximum(0, nxt - half) - lo]) / window
        out[j0:j0 + len(pos)] = a + (b - a) * frac
    return out


def convert_wav(data: bytes) -> Converted:
    """An uploaded file -> an 8 kHz mono 16-bit WAV, or ``PromptError``."""
    import numpy as np

    if looks_like_mp3(data):
        raise PromptError("this is an MP3 file: decode it first (check_mp3, then a decoder)", "prompt.mp3_unsupported")
    try:
        w = wave.open(io.BytesIO(data), "rb")
    except (wave.Error, EOFError, struct.error) as exc:
        raise PromptError(f"not a readable WAV file: {exc}", "prompt.corrupt") from None
    with w:
        channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        if not (4000 <= rate <= 192000) or channels < 1:
            raise PromptError(f"not a usable WAV file: {rate} Hz, {channels} channels", "prompt.corrupt")
        if frames:
            w.setpos(frames - 1)
            if len(w.readframes(1)) < channels * width:
                raise PromptError("the WAV file is cut short: its header promises more audio than it holds",
                                  "prompt.corrupt")
        seconds = frames / rate
        if seconds < MIN_SECONDS:
            raise PromptError(f"the recording is too short ({seconds:.2f} s)", "prompt.too_short")
        if seconds > MAX_SECONDS:
            raise PromptError(f"the recording is too long ({seconds:.0f} s, at most {MAX_SECONDS})",
                              "prompt.too_long")
        if width not in (1, 2, 3, 4):
            raise PromptError(f"{width * 8}-bit samples are not supported", "prompt.unsupported_format")
        out = _resample(_Mono(w, channels, width), frames, rate)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if _dbfs(peak) < SILENT_PEAK_DBFS:
        raise PromptError(f"the recording is silent (peak {_dbfs(peak)} dBFS)", "prompt.silent")
    gain_db = 0.0
    if _dbfs(peak) < QUIET_PEAK_DBFS:
        gain_db = min(MAX_GAIN_DB, TARGET_PEAK_DBFS - _dbfs(peak))
        factor = 10 ** (gain_db / 20)
        out *= factor
        peak *= factor
    rms = math.sqrt(float(np.dot(out, out)) / len(out)) if len(out) else 0.0
    pcm = np.clip(np.round(out * 32767), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return Converted(buf.getvalue(), round(len(out) / RATE, 2), rate, channels, _dbfs(peak), _dbfs(rms),
                     round(gain_db, 1))
