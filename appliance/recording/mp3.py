"""MP3: encoding with lameenc, and reading frame headers ourselves to verify the result.

The format is MPEG-2.5 layer III, 8 kHz mono, constant 8 kbit/s by default: telephone
audio has nothing above 4 kHz, 8 kHz is the lowest sample rate MP3 has (only MPEG-2.5
goes there) and 8 kbit/s its lowest bitrate, which makes every frame exactly 72 bytes
(72 * 8000 / 8000) for 576 samples: 1,000 bytes per second of audio, plus a fixed
216-288 bytes per file (see ``LAME_EXTRA_SAMPLES``). Constant bitrate keeps the size a
file will take predictable, which the disk guard relies on.

Verification does not trust the encoder: ``FrameScanner`` is a sans-I/O parser (bytes
in, a running count out, the unfinished remainder kept, like the AMI decoder) that walks
the frames by their headers (sync word, version, layer, bitrate, sample rate, padding →
frame length). A file cut short ends inside a frame; a file that is not what we wrote
does not parse; the number of frames gives the duration, which must match the WAV's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

OUT_SAMPLE_RATE = 8000
DEFAULT_BITRATE_KBPS = 8
# LAME's -q 7: no noise shaping. At 8 kbit/s no quantisation meets the masking thresholds,
# and -q 2's noise-shaping loops (60 % of its encode) bought nothing measurable: on 21
# minutes of recorded speech (Asterisk's prompts) and SIPp's sample, -q 7 gave 1.3-1.8 dB
# more SNR and slightly less band distortion than -q 2 (bench/encoder_quality.py), encoding
# 2.2-2.6x faster (~2,400x real time per core). Same frames, same size, same duration.
DEFAULT_QUALITY = 7
# Layer III bitrates of MPEG-2 and 2.5 (index 1..14), in kbit/s.
LOW_RATE_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
# lameenc 1.9.0 writes ceil((n + 1152) / 576) frames for n samples at 8 kHz (measured for
# n from 0 to 480,000, also through its resampler): its encoder delay plus the flush.
# A file therefore plays 1152 to 1727 samples (0.144-0.216 s) longer than its WAV.
LAME_EXTRA_SAMPLES = 1152
DURATION_TOLERANCE = 0.1  # seconds between the WAV and what the MP3's frames say, after the above


@dataclass(frozen=True)
class FrameHeader:
    version: int  # 1, 2 or 25 (MPEG-2.5)
    bitrate_kbps: int
    sample_rate: int
    length: int  # bytes, header included
    samples: int
    mono: bool


def parse_header(raw: bytes) -> FrameHeader | None:
    """The layer III frame header in the first 4 bytes of ``raw``, or None if there is none."""
    if len(raw) < 4 or raw[0] != 0xFF or raw[1] & 0xE0 != 0xE0:
        return None
    version_bits = (raw[1] >> 3) & 3
    layer_bits = (raw[1] >> 1) & 3
    bitrate_index = raw[2] >> 4
    rate_index = (raw[2] >> 2) & 3
    if version_bits == 1 or layer_bits != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved version, not layer III, free/bad bitrate, reserved rate
    padding = (raw[2] >> 1) & 1
    mono = (raw[3] >> 6) == 3
    sample_rate = SAMPLE_RATES[version_bits][rate_index]
    if version_bits == 3:
        bitrate = MPEG1_BITRATES[bitrate_index - 1]
        return FrameHeader(1, bitrate, sample_rate, 144_000 * bitrate // sample_rate + padding, 1152, mono)
    bitrate = LOW_RATE_BITRATES[bitrate_index - 1]
    return FrameHeader(2 if version_bits == 2 else 25, bitrate, sample_rate,
                       72_000 * bitrate // sample_rate + padding, 576, mono)


def same_headers(buffer: bytes | bytearray, pos: int, length: int) -> int:
    """How many whole frames of ``length`` bytes from ``pos`` on start with the 4 header
    bytes of the frame at ``pos`` (at least that one, which the caller has checked is whole).

    A constant-bitrate file (ours: every frame 72 bytes, no padding) is one such run, so
    its frames are counted by comparing four byte columns at C speed instead of parsing
    25,000 headers in Python (a 30-minute call); each frame it counts is one that parsing
    would have accepted, since its header is byte for byte the frame's that was parsed.
    """
    whole = (len(buffer) - pos) // length
    run = whole
    for k in range(4):
        column = buffer[pos + k:pos + whole * length:length]
        run = min(run, len(column) - len(column.lstrip(column[:1])))
    return max(run, 1)


@dataclass(frozen=True)
class Mp3Scan:
    frames: int
    samples: int
    sample_rate: int  # of the first frame; 0 if none
    total_bytes: int
    problem: str  # empty when every byte belonged to a whole, consistent frame

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate if self.sample_rate else 0.0

    @property
    def audio_seconds(self) -> float:
        """What the recording holds: the frames' duration less LAME's fixed extra."""
        if not self.sample_rate:
            return 0.0
        return max(0, self.samples - LAME_EXTRA_SAMPLES) / self.sample_rate


class FrameScanner:
    """Walks MP3 frames across ``feed`` calls; ``result()`` says what was found.

    An ID3v2 tag at the start is skipped (we write none, but a file may have gained one).
    Every frame must follow the previous one directly and match the first frame's
    version, sample rate and channel mode; anything else is the first problem found.
    """

    def __init__(self):
        self._buffer = bytearray()
        self._first: FrameHeader | None = None
        self._started = False
        self.frames = 0
        self.samples = 0
        self.total = 0
        self.problem = ""
        self._skip = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self.problem:
            return
        self._buffer += data
        if not self._started:
            if len(self._buffer) < 10:
                return
            self._started = True
            if self._buffer[:3] == b"ID3":
                size = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(self._buffer[6:10]))
                self._skip = size
            else:
                self._skip = 0
        pos = min(self._skip, len(self._buffer))
        self._skip -= pos
        while len(self._buffer) - pos >= 4:
            header = parse_header(self._buffer[pos:pos + 4])
            if header is None:
                self.problem = f"no MP3 frame header at byte {self.total - len(self._buffer) + pos}"
                break
            first = self._first = self._first or header
            if (header.version, header.sample_rate, header.mono) != (first.version, first.sample_rate, first.mono):
                self.problem = f"frame {self.frames} changes format"
                break
            if len(self._buffer) - pos < header.length:
                break  # the rest of this frame is in the next feed, or the file was cut here
            run = same_headers(self._buffer, pos, header.length)
            pos += run * header.length
            self.frames += run
            self.samples += run * header.samples
        del self._buffer[:pos]

    @property
    def first_header(self) -> FrameHeader | None:
        """The first frame's header (its format is every frame's), once one was read."""
        return self._first

    def result(self) -> Mp3Scan:
        problem = self.problem
        if not problem and self._buffer:
            problem = f"the file ends inside a frame ({len(self._buffer)} bytes left over): truncated"
        if not problem and not self.frames:
            problem = "no MP3 frames"
        rate = self._first.sample_rate if self._first else 0
        return Mp3Scan(self.frames, self.samples, rate, self.total, problem)


def scan_file(path: str | Path, chunk: int = 1 << 20) -> tuple[Mp3Scan, str]:
    """Scan ``path`` and hash it in one read: (what its frames say, SHA-256 hex)."""
    scanner, digest = FrameScanner(), hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(chunk):
            scanner.feed(data)
            digest.update(data)
    return scanner.result(), digest.hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(chunk):
            digest.update(data)
    return digest.hexdigest()


def verify(scan: Mp3Scan, expected_seconds: float | None, bitrate_kbps: int | None = None) -> str:
    """Why ``scan`` is not a good recording of ``expected_seconds`` of audio ("" if it is)."""
    if scan.problem:
        return scan.problem
    if scan.sample_rate != OUT_SAMPLE_RATE:
        return f"MP3 at {scan.sample_rate} Hz, expected {OUT_SAMPLE_RATE}"
    if bitrate_kbps is not None and scan.total_bytes > scan.frames * (72_000 * bitrate_kbps // OUT_SAMPLE_RATE + 1):
        return f"MP3 larger than {bitrate_kbps} kbit/s allows"
    if expected_seconds is not None:
        lag = scan.audio_seconds - expected_seconds
        if not -DURATION_TOLERANCE <= lag <= DURATION_TOLERANCE:
            return f"MP3 holds {scan.audio_seconds:.3f}s of audio, the WAV {expected_seconds:.3f}s"
    return ""


def check_bitrate(bitrate_kbps: int) -> int:
    if bitrate_kbps not in LOW_RATE_BITRATES:
        raise ValueError(f"MP3 bitrate at 8 kHz must be one of {LOW_RATE_BITRATES} kbit/s, not {bitrate_kbps}")
    return bitrate_kbps


def make_encoder(in_sample_rate: int, bitrate_kbps: int = DEFAULT_BITRATE_KBPS, quality: int = DEFAULT_QUALITY):
    """A lameenc encoder taking mono 16-bit PCM at ``in_sample_rate``, writing 8 kHz mono CBR."""
    import lameenc  # only the worker process needs it loaded

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(check_bitrate(bitrate_kbps))
    encoder.set_in_sample_rate(in_sample_rate)
    encoder.set_out_sample_rate(OUT_SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(quality)
    return encoder
