"""Reading the WAV files MixMonitor writes, including ones a crash cut short.

Asterisk writes 16-bit signed little-endian PCM, mono, at 8 kHz (``wav``) or 16 kHz
(``wav16``, slin16), and fills in the RIFF and ``data`` sizes as it goes and when it
closes the file. A crash (Asterisk's or the machine's) leaves those sizes at zero or
behind the samples really on disk, so we do not trust them: the samples present in the
file are the recording. We do not use the standard ``wave`` module for the same reason
(it believes the header).

Parsing is pure (``parse_layout``, ``data_length``): bytes and sizes in, a layout out.
``read_info`` and ``mono_pcm`` are the thin file adapters around them.

Sample rates other than 8 kHz are handed to LAME as they are (it resamples to 8 kHz
with a proper low-pass filter, better than the naive decimation we could write here);
stereo is averaged to mono here, because LAME would encode two channels. Anything not
16-bit PCM (GSM ``wav49``, A-law, 24-bit...) is refused with
``recording.unsupported_format``: MixMonitor on this appliance never writes it.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance.recording import errors
from appliance.recording.errors import RecordingError

# Input rates LAME resamples from (MPEG-1/2/2.5 rates; Asterisk's slin rates among them).
SUPPORTED_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
HEAD_BYTES = 64 * 1024  # chunks before ``data`` (fmt, fact, LIST) must lie within this
UNKNOWN_SIZE = 0xFFFFFFFF  # what some writers put in a size they never came back to fill in
_PCM, _EXTENSIBLE = 0x0001, 0xFFFE


@dataclass(frozen=True)
class WavLayout:
    """What the header says, and how many bytes really follow the ``data`` chunk header."""

    sample_rate: int
    channels: int
    bits: int
    data_offset: int
    declared_bytes: int
    present_bytes: int

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    data_offset: int
    data_bytes: int  # whole sample frames actually in the file
    repaired: bool  # the header's sizes were wrong; ``data_bytes`` is what the file holds

    @property
    def frames(self) -> int:
        return self.data_bytes // (2 * self.channels)

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def parse_layout(head: bytes, file_size: int) -> WavLayout:
    """The layout of a WAV from its first bytes (``head``) and its size on disk.

    Raises ``RecordingError`` with ``recording.empty`` when the file holds no audio at
    all (zero length, or cut within its header), ``recording.not_wav`` when it is not a
    RIFF/WAVE file, ``recording.unsupported_format`` for WAVs that are not 16-bit PCM.
    """
    if file_size == 0:
        raise RecordingError("the WAV file is empty (0 bytes)", code=errors.EMPTY)
    if len(head) < 12:
        if b"RIFF".startswith(head[:4]):
            raise RecordingError(f"the WAV file ends within its header ({file_size} bytes)", code=errors.EMPTY)
        raise RecordingError("not a WAV file (too short, no RIFF header)", code=errors.NOT_WAV)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise RecordingError(f"not a WAV file (starts with {head[:12]!r})", code=errors.NOT_WAV)
    fmt = None
    pos = 12
    while True:
        if pos + 8 > len(head):
            if len(head) < file_size:
                raise RecordingError("no data chunk within the first %d bytes" % HEAD_BYTES, code=errors.NOT_WAV)
            raise RecordingError("the WAV file ends before its audio begins", code=errors.EMPTY)
        chunk_id, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"data":
            if fmt is None:
                raise RecordingError("WAV data chunk before its fmt chunk", code=errors.NOT_WAV)
            rate, channels, bits = fmt
            return WavLayout(rate, channels, bits, body, size, max(0, file_size - body))
        if chunk_id == b"fmt ":
            if body + min(size, 16) > len(head):
                raise RecordingError("the WAV file ends within its fmt chunk", code=errors.EMPTY)
            fmt = _parse_fmt(head[body:body + size])
        pos = body + size + (size & 1)


def _parse_fmt(body: bytes) -> tuple[int, int, int]:
    if len(body) < 16:
        raise RecordingError("WAV fmt chunk too short", code=errors.NOT_WAV)
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]  # the sub-format GUID starts with the format tag
    if tag != _PCM or bits != 16:
        raise RecordingError(f"WAV format {tag:#06x} with {bits}-bit samples: only 16-bit PCM is converted",
                             code=errors.UNSUPPORTED)
    if channels not in (1, 2):
        raise RecordingError(f"WAV with {channels} channels: only mono or stereo", code=errors.UNSUPPORTED)
    if rate not in SUPPORTED_RATES:
        raise RecordingError(f"WAV at {rate} Hz: not a rate the encoder takes", code=errors.UNSUPPORTED)
    return rate, channels, bits


def data_length(layout: WavLayout, next_chunk_id: bytes = b"") -> tuple[int, bool]:
    """How many bytes of samples to read, and whether the header had to be overruled.

    The declared size is trusted only when it fits in the file and is either exact or
    followed by another chunk (``next_chunk_id``: the 4 bytes after the declared data,
    which the caller reads). Zero, 0xFFFFFFFF, a size beyond the end of the file, or a
    size short of samples that run on to the end of the file (a header last updated
    before a crash) all mean: take what is there. Rounded down to whole sample frames.
    """
    declared, present = layout.declared_bytes, layout.present_bytes
    if 0 < declared <= present and (declared + (declared & 1) == present or _is_chunk_id(next_chunk_id)):
        length, repaired = declared, False
    else:
        length, repaired = present, declared != present
    length -= length % layout.block_align
    return length, repaired


def _is_chunk_id(raw: bytes) -> bool:
    return len(raw) == 4 and all(0x20 <= b < 0x7F for b in raw)


def read_info(path: str | Path) -> WavInfo:
    """Open ``path`` and work out where its samples are (see ``parse_layout``)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        layout = parse_layout(f.read(HEAD_BYTES), size)
        next_id = b""
        if 0 < layout.declared_bytes < layout.present_bytes:
            f.seek(layout.data_offset + layout.declared_bytes + (layout.declared_bytes & 1))
            next_id = f.read(4)
    length, repaired = data_length(layout, next_id)
    if length == 0:
        raise RecordingError("the WAV file holds a header but no audio", code=errors.EMPTY)
    return WavInfo(layout.sample_rate, layout.channels, layout.data_offset, length, repaired)


def downmix(pcm: bytes) -> bytes:
    """Average the two channels of interleaved 16-bit stereo into mono."""
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    mono = array("h", [(samples[i] + samples[i + 1]) >> 1 for i in range(0, len(samples) - 1, 2)])
    if sys.byteorder == "big":
        mono.byteswap()
    return mono.tobytes()


def mono_pcm(path: str | Path, info: WavInfo, chunk_seconds: float = 10.0) -> Iterator[bytes]:
    """The samples of ``path`` as mono 16-bit little-endian PCM, ``chunk_seconds`` at a time."""
    block = 2 * info.channels
    chunk = max(1, int(info.sample_rate * chunk_seconds)) * block
    left = info.data_bytes
    with open(path, "rb") as f:
        f.seek(info.data_offset)
        while left > 0:
            data = f.read(min(chunk, left))
            if not data:  # the file shrank under us; what we read is what there was
                return
            data = data[:len(data) - len(data) % block]
            left -= len(data)
            yield downmix(data) if info.channels == 2 else data
