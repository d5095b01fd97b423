"""Real WAV files for the recording tests, made with the standard ``wave`` module."""

from __future__ import annotations

import math
import random
import struct
import wave
from pathlib import Path


def speechlike(seconds_: float, rate: int = 8000, seed: int = 1) -> list[int]:
    """One second of a warbling tone with noise: something an encoder has to work at."""
    rng = random.Random(seed)
    n = int(rate * seconds_)
    return [int(7000 * math.sin(2 * math.pi * (300 + 200 * math.sin(i / rate * 3)) * i / rate)
                + rng.randint(-1500, 1500)) for i in range(n)]


def pcm(seconds: float, rate: int = 8000, channels: int = 1) -> bytes:
    """``seconds`` of 16-bit PCM; long files repeat one generated second, which is fast."""
    second = speechlike(1.0, rate)
    frames = b"".join(struct.pack("<" + "h" * channels, *([s] * channels)) for s in second)
    whole, rest = divmod(int(seconds * rate), rate)
    return frames * whole + frames[:rest * 2 * channels]


def write_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm(seconds, rate, channels))
    return path


def zero_sizes(path: Path) -> None:
    """What a crash leaves: RIFF and data sizes never filled in."""
    with open(path, "r+b") as f:
        f.seek(4)
        f.write(b"\0\0\0\0")
        f.seek(40)
        f.write(b"\0\0\0\0")
