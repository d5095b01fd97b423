"""Prompts: turning an uploaded recording into what Asterisk plays (pure, no database).

``convert_wav(data)`` reads a PCM WAV of any common rate, width and channel count, mixes
it to mono, resamples it to 8 kHz (a moving-average low-pass, then linear interpolation:
plain Python, linear in the length, good enough for speech on a phone line), measures
its level, refuses it when it is silent or unreadable, raises a quiet one to a peak of
-3 dBFS, and returns a 16-bit 8 kHz mono WAV, the format Asterisk's ``format_wav``
plays without transcoding.

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
from array import array
from dataclasses import dataclass

RATE = 8000
MAX_SECONDS = 300
MIN_SECONDS = 0.2
SILENT_PEAK_DBFS = -45.0  # nothing louder than this: refused as silent
QUIET_PEAK_DBFS = -12.0  # a peak below this is raised to TARGET_PEAK_DBFS
TARGET_PEAK_DBFS = -3.0
MAX_GAIN_DB = 30.0


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


def _samples(raw: bytes, width: int) -> list[float]:
    """PCM bytes -> floats in [-1, 1)."""
    if width == 1:  # unsigned 8-bit
        return [(b - 128) / 128.0 for b in raw]
    if width == 2:
        a = array("h")
        a.frombytes(raw[: len(raw) // 2 * 2])
        return [x / 32768.0 for x in a]
    if width == 3:
        return [int.from_bytes(raw[i:i + 3], "little", signed=True) / 8388608.0 for i in range(0, len(raw) - 2, 3)]
    if width == 4:
        a = array("i")
        a.frombytes(raw[: len(raw) // 4 * 4])
        return [x / 2147483648.0 for x in a]
    raise PromptError(f"{width * 8}-bit samples are not supported", "prompt.unsupported_format")


def _resample(mono: list[float], rate: int) -> list[float]:
    if rate == RATE:
        return mono
    window = max(1, round(rate / RATE))
    if window > 1:  # moving average over one output period: keeps most of what aliases out
        prefix = [0.0]
        for x in mono:
            prefix.append(prefix[-1] + x)
        n = len(mono)
        half = window // 2
        mono = [(prefix[min(n, i + window - half)] - prefix[max(0, i - half)]) / window for i in range(n)]
    step = rate / RATE
    out_len = int(len(mono) / step)
    out = []
    for j in range(out_len):
        pos = j * step
        i = int(pos)
        frac = pos - i
        nxt = mono[i + 1] if i + 1 < len(mono) else mono[i]
        out.append(mono[i] + (nxt - mono[i]) * frac)
    return out


def convert_wav(data: bytes) -> Converted:
    """An uploaded file -> an 8 kHz mono 16-bit WAV, or ``PromptError``."""
    if looks_like_mp3(data):
        raise PromptError("this is an MP3 file: decode it first (check_mp3, then a decoder)", "prompt.mp3_unsupported")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except (wave.Error, EOFError, struct.error) as exc:
        raise PromptError(f"not a readable WAV file: {exc}", "prompt.corrupt") from None
    if not (4000 <= rate <= 192000) or channels < 1:
        raise PromptError(f"not a usable WAV file: {rate} Hz, {channels} channels", "prompt.corrupt")
    if len(raw) < frames * channels * width:
        raise PromptError("the WAV file is cut short: its header promises more audio than it holds",
                          "prompt.corrupt")
    seconds = frames / rate
    if seconds < MIN_SECONDS:
        raise PromptError(f"the recording is too short ({seconds:.2f} s)", "prompt.too_short")
    if seconds > MAX_SECONDS:
        raise PromptError(f"the recording is too long ({seconds:.0f} s, at most {MAX_SECONDS})", "prompt.too_long")
    flat = _samples(raw, width)
    mono = flat if channels == 1 else [sum(flat[i:i + channels]) / channels
                                       for i in range(0, len(flat) - channels + 1, channels)]
    out = _resample(mono, rate)
    peak = max((abs(x) for x in out), default=0.0)
    if _dbfs(peak) < SILENT_PEAK_DBFS:
        raise PromptError(f"the recording is silent (peak {_dbfs(peak)} dBFS)", "prompt.silent")
    gain_db = 0.0
    if _dbfs(peak) < QUIET_PEAK_DBFS:
        gain_db = min(MAX_GAIN_DB, TARGET_PEAK_DBFS - _dbfs(peak))
        factor = 10 ** (gain_db / 20)
        out = [x * factor for x in out]
        peak *= factor
    rms = math.sqrt(sum(x * x for x in out) / len(out)) if out else 0.0
    pcm = array("h", (max(-32768, min(32767, int(round(x * 32767)))) for x in out))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return Converted(buf.getvalue(), round(len(out) / RATE, 2), rate, channels, _dbfs(peak), _dbfs(rms),
                     round(gain_db, 1))
