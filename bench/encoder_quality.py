"""Measurement: what LAME's quality setting (``-q``) does to recordings at 8 kHz, 8 kbit/s.

Why ``appliance.recording.mp3.DEFAULT_QUALITY`` is 7: each setting encodes the same speech,
the MP3 is decoded again and compared with the samples that went in, after LAME's delay:

- ``snr``: signal to noise of the whole waveform, in dB (higher is better);
- ``band distortion``: the root mean square, over 32 ms frames with speech in them, of the
  difference in dB between the input's and the output's energy in 17 critical bands from
  100 Hz to 4 kHz (lower is better; a floor 30 dB under each frame's loudest band, so bands
  LAME's low-pass removed count as that, not as minus infinity);
- ``x realtime``: seconds of audio per processor second of lameenc alone.

The speech: SIPp's ``g711a.pcap`` sample (what the benchmarks play) and Asterisk's own
prompts (``en_US_f_Allison``, recorded speech, GSM) from the root file system the tests
build. An objective measure, not a listening test.

Not part of ``make bench``: decoding needs ``miniaudio`` (PyPI), which the appliance does
not use. ``pip install miniaudio``, then ``python -m bench.encoder_quality``; the figures go
to ``bench/results/<date>-encoder-quality.json``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from appliance.recording import mp3
from bench.common import figure, write_results
from bench.recording import speech_pcm

REPO = Path(__file__).resolve().parent.parent
QUALITIES = (2, 3, 5, 7, 9)
LAME_DELAY = 1105  # samples before the input's first one, as decoded (found by cross-correlation)
BAND_EDGES = (100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700, 4000)
FRAME = 256


def prompts_pcm(limit: int = 400) -> bytes:
    """Asterisk's recorded English prompts (from the root file system ``make rootfs`` built),
    decoded from GSM by sox, one after the other."""
    folder = REPO / "build/rootfs/current/usr/share/asterisk/sounds/en_US_f_Allison"
    if not folder.is_dir():
        raise SystemExit(f"no {folder}: run make rootfs first")
    out = bytearray()
    for path in sorted(folder.glob("*.gsm"))[:limit]:
        out += subprocess.run(["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", "8000",
                               "-"], capture_output=True, check=True).stdout
    return bytes(out)


def encode(pcm: bytes, quality: int) -> tuple[bytes, float]:
    encoder = mp3.make_encoder(8000, mp3.DEFAULT_BITRATE_KBPS, quality)
    out, started = bytearray(), time.process_time()
    for start in range(0, len(pcm), 160_000):
        out += encoder.encode(pcm[start:start + 160_000])
    out += encoder.flush()
    return bytes(out), time.process_time() - started


def decode(data: bytes) -> np.ndarray:
    import miniaudio

    sound = miniaudio.decode(data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=8000)
    return np.array(sound.samples, dtype=np.float64)[LAME_DELAY:]


def compare(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(SNR in dB, band distortion in dB) of ``y`` against ``x``."""
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    snr = 10 * np.log10(np.sum(x ** 2) / np.sum((x - y) ** 2))
    freqs, window = np.fft.rfftfreq(FRAME, 1 / 8000), np.hanning(FRAME)
    bands = [(freqs >= lo) & (freqs < hi) for lo, hi in zip(BAND_EDGES, BAND_EDGES[1:])]
    distortion = []
    for start in range(0, n - FRAME, FRAME):
        a, b = x[start:start + FRAME], y[start:start + FRAME]
        if np.sum(a ** 2) < FRAME * 300 ** 2:
            continue  # a pause: nothing to judge
        pa, pb = np.abs(np.fft.rfft(a * window)) ** 2, np.abs(np.fft.rfft(b * window)) ** 2
        ea, eb = np.array([pa[band].sum() for band in bands]), np.array([pb[band].sum() for band in bands])
        floor = ea.max() * 1e-3
        distortion.append(np.sqrt(np.mean((10 * np.log10((ea + floor) / (eb + floor))) ** 2)))
    return float(snr), float(np.mean(distortion))


def run() -> Path:
    figures = []
    for name, pcm in (("g711a.pcap", speech_pcm()), ("en_US_f_Allison prompts", prompts_pcm())):
        x = np.frombuffer(pcm, "<i2").astype(np.float64)
        seconds = len(x) / 8000
        for quality in QUALITIES:
            data, _ = encode(pcm, quality)
            cpu = min(encode(pcm, quality)[1] for _ in range(2))
            snr, distortion = compare(x, decode(data))
            figures.append(figure("encoder quality", snr, "dB snr", speech=name, audio_seconds=round(seconds, 1),
                                  quality=quality, band_distortion_db=round(distortion, 3),
                                  x_realtime=round(seconds / cpu), mp3_bytes=len(data)))
    return write_results("encoder-quality", figures)


if __name__ == "__main__":
    print(run().read_text())
