"""A GSM 06.10 (full-rate) decoder: the ``.gsm`` files of Asterisk's core sounds and of the
appliance's own sentences as 16-bit PCM, so a browser (which plays WAV, not GSM) can play a
built-in prompt where an admin picks it.

The fixed-point arithmetic of the reference decoder (ETSI GSM 06.10, as in libgsm by Jutta
Degener and Carsten Bormann, which sox and Asterisk use), so the samples are the ones those
give.  Pure: bytes in, bytes out; about 0.1 s of CPU per second of sound, so callers run it
off the loop that serves calls.
"""

from __future__ import annotations

import struct

FRAME_BYTES = 33  # 20 ms, 160 samples at 8 kHz
SAMPLES = 160
RATE = 8000
_MIN, _MAX = -32768, 32767
_FAC = (18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767)
_QLB = (3277, 11469, 21299, 32767)
_MIC = (-32, -32, -16, -16, -8, -8, -4, -4)
_B = (0, 0, 2048, -2560, 94, -1792, -341, -1144)
_INVA = (13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708)
_LAR_BITS = (6, 6, 5, 5, 4, 4, 3, 3)


class GsmError(ValueError):
    """Not GSM 06.10 frames."""


def _sat(x: int) -> int:
    return _MIN if x < _MIN else _MAX if x > _MAX else x


def _mult_r(a: int, b: int) -> int:
    if a == _MIN and b == _MIN:
        return _MAX
    return (a * b + 16384) >> 15


def _asr(a: int, n: int) -> int:
    if n >= 16:
        return -1 if a < 0 else 0
    if n <= -16:
        return 0
    return a << -n if n < 0 else a >> n


def _word(x: int) -> int:
    """The low 16 bits as a signed word (C's assignment of an int to a short)."""
    x &= 0xFFFF
    return x - 0x10000 if x & 0x8000 else x


def _unpack(frame: bytes) -> tuple[list[int], list[tuple[int, int, int, int, list[int]]]]:
    bits = int.from_bytes(frame, "big")
    position = FRAME_BYTES * 8

    def take(n: int) -> int:
        nonlocal position
        position -= n
        return (bits >> position) & ((1 << n) - 1)

    if take(4) != 0xD:
        raise GsmError("not a GSM 06.10 frame (its first four bits are not 1101)")
    lar = [take(n) for n in _LAR_BITS]
    subframes = []
    for _ in range(4):
        nc, bc, mc, xmaxc = take(7), take(2), take(2), take(6)
        subframes.append((nc, bc, mc, xmaxc, [take(3) for _ in range(13)]))
    return lar, subframes


def _rpe(xmaxc: int, mc: int, xmc: list[int]) -> list[int]:
    """The 40 samples of the regular-pulse excitation of a subframe."""
    exp = (xmaxc >> 3) - 1 if xmaxc > 15 else 0
    mant = xmaxc - (exp << 3)
    if mant == 0:
        exp, mant = -4, 7
    else:
        while mant <= 7:
            mant = mant << 1 | 1
            exp -= 1
        mant -= 8
    factor, shift = _FAC[mant], 6 - exp
    rounding = _asr(1, -(shift - 1)) if shift - 1 >= 0 else _asr(1, 1 - shift)
    excitation = [0] * 40
    for i, x in enumerate(xmc):
        temp = _sat(_mult_r(factor, ((x << 1) - 7) << 12) + rounding)
        excitation[mc + 3 * i] = _asr(temp, shift)
    return excitation


def _lar_to_rp(lar: list[int]) -> list[int]:
    out = []
    for value in lar:
        temp = _MAX if value == _MIN else abs(value)
        temp = temp << 1 if temp < 11059 else temp + 11059 if temp < 20070 else _sat((temp >> 2) + 26112)
        out.append(-temp if value < 0 else temp)
    return out


class Decoder:
    """One stream's state: frames decode in order."""

    def __init__(self) -> None:
        self.dp = [0] * 120  # the last 120 reconstructed excitation samples (long-term memory)
        self.nrp = 40
        self.larpp = ([0] * 8, [0] * 8)
        self.j = 0
        self.v = [0] * 9
        self.msr = 0

    def frame(self, frame: bytes) -> list[int]:
        """33 bytes -> 160 samples."""
        lar, subframes = _unpack(frame)
        wt: list[int] = []
        for nc, bc, mc, xmaxc, xmc in subframes:
            erp = _rpe(xmaxc, mc, xmc)
            nr = self.nrp if nc < 40 or nc > 120 else nc
            self.nrp = nr
            gain = _QLB[bc]
            history = self.dp
            for k in range(40):
                history.append(_sat(erp[k] + _mult_r(gain, history[len(history) - nr])))
            wt.extend(history[120:])
            self.dp = history[40:]
        return self._postprocess(self._short_term(lar, wt))

    def _short_term(self, larc: list[int], wt: list[int]) -> list[int]:
        previous = self.larpp[self.j]
        self.j ^= 1
        current = self.larpp[self.j]
        for i in range(8):
            temp = _sat(larc[i] + _MIC[i]) << 10
            temp = _sat(temp - (_B[i] << 1))
            temp = _mult_r(_INVA[i], temp)
            current[i] = _sat(temp + temp)
        spans = (
            (0, 13, [_sat(_sat((p >> 2) + (c >> 2)) + (p >> 1)) for p, c in zip(previous, current)]),
            (13, 27, [_sat((p >> 1) + (c >> 1)) for p, c in zip(previous, current)]),
            (27, 40, [_sat(_sat((p >> 2) + (c >> 2)) + (c >> 1)) for p, c in zip(previous, current)]),
            (40, 160, list(current)),
        )
        out = []
        v = self.v
        for start, end, larp in spans:
            rp = _lar_to_rp(larp)
            for k in range(start, end):
                sri = wt[k]
                for i in range(7, -1, -1):
                    sri = _sat(sri - _word(_mult_r(rp[i], v[i])))
                    v[i + 1] = _sat(v[i] + _word(_mult_r(rp[i], sri)))
                v[0] = sri
                out.append(sri)
        return out

    def _postprocess(self, samples: list[int]) -> list[int]:
        msr = self.msr
        out = []
        for s in samples:
            msr = _sat(s + _mult_r(msr, 28180))
            out.append(_word(_sat(msr + msr) & 0xFFF8))
        self.msr = msr
        return out


def decode(data: bytes) -> bytes:
    """A ``.gsm`` file (raw GSM 06.10 frames) -> 16-bit little-endian mono PCM at 8 kHz; a
    cut-off last frame is left out.  GsmError for what is not GSM."""
    decoder = Decoder()
    samples: list[int] = []
    for start in range(0, len(data) - FRAME_BYTES + 1, FRAME_BYTES):
        samples.extend(decoder.frame(data[start:start + FRAME_BYTES]))
    return struct.pack(f"<{len(samples)}h", *samples)


def to_wav(data: bytes) -> bytes:
    """A ``.gsm`` file as a WAV file (16-bit mono, 8 kHz) a browser plays."""
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(decode(data))
    return out.getvalue()
