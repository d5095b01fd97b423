"""Reading MixMonitor's WAVs: whole, cut short by a crash, empty, or not WAVs at all."""

from __future__ import annotations

import struct

import pytest
from wavfiles import pcm, write_wav, zero_sizes

from appliance.recording import errors, wav
from appliance.recording.errors import RecordingError


def read_all(path):
    info = wav.read_info(path)
    return info, b"".join(wav.mono_pcm(path, info, chunk_seconds=0.7))


def test_a_whole_file_is_read_as_written(tmp_path):
    path = write_wav(tmp_path / "a.wav", 2.5)
    info, samples = read_all(path)
    assert (info.sample_rate, info.channels, info.frames, info.repaired) == (8000, 1, 20000, False)
    assert info.seconds == 2.5
    assert samples == pcm(2.5)


def test_sizes_never_filled_in_are_recovered_from_the_file(tmp_path):
    path = write_wav(tmp_path / "a.wav", 3)
    zero_sizes(path)
    info, samples = read_all(path)
    assert info.repaired and info.frames == 24000 and samples == pcm(3)


def test_a_file_cut_mid_sample_keeps_every_whole_sample(tmp_path):
    path = write_wav(tmp_path / "a.wav", 3)  # header says 3 s ...
    with open(path, "r+b") as f:
        f.truncate(44 + 2 * 10001 + 1)  # ... the crash left 10001 samples and half of one more
    info, samples = read_all(path)
    assert info.repaired and info.frames == 10001 and samples == pcm(3)[:20002]


def test_a_header_left_behind_by_the_samples_is_overruled(tmp_path):
    """Asterisk updates the sizes as it goes; after a crash they lag the samples on disk."""
    path = write_wav(tmp_path / "a.wav", 3)
    with open(path, "r+b") as f:
        f.seek(40)
        f.write(struct.pack("<I", 16000))  # the header last said half a second
    info, _ = read_all(path)
    assert info.repaired and info.frames == 24000


def test_a_chunk_after_the_data_is_respected(tmp_path):
    path = write_wav(tmp_path / "a.wav", 1)
    with open(path, "ab") as f:
        f.write(b"LIST" + struct.pack("<I", 4) + b"INFO")
    info, samples = read_all(path)
    assert not info.repaired and info.frames == 8000 and samples == pcm(1)


@pytest.mark.parametrize("content, code", [
    (b"", errors.EMPTY), (b"RI", errors.EMPTY), (b"RIFF\0\0\0\0WAVEfmt ", errors.EMPTY),
    (b"RIFF\0\0\0\0WAVE", errors.EMPTY),
    (b"ID3\x03\0\0\0\0\0\0" + b"\xff\xe3" * 50, errors.NOT_WAV), (b"hello", errors.NOT_WAV),
    (b"RIFX\0\0\0\0WAVE" + b"\0" * 40, errors.NOT_WAV),
], ids=["zero-length", "cut-in-riff", "cut-in-fmt", "no-chunks", "an-mp3", "text", "big-endian-rifx"])
def test_nothing_recorded_is_empty_and_other_files_are_not_wavs(tmp_path, content, code):
    path = tmp_path / "a.wav"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        wav.read_info(path)
    assert caught.value.code == code


def test_a_header_without_samples_is_empty(tmp_path):
    path = write_wav(tmp_path / "a.wav", 0)
    assert path.stat().st_size == 44
    with pytest.raises(RecordingError) as caught:
        wav.read_info(path)
    assert caught.value.code == errors.EMPTY and "no audio" in caught.value.message


def fmt_chunk(tag, channels, rate, bits):
    align = channels * bits // 8
    return b"fmt " + struct.pack("<IHHIIHH", 16, tag, channels, rate, rate * align, align, bits)


@pytest.mark.parametrize("fmt", [fmt_chunk(6, 1, 8000, 8), fmt_chunk(1, 1, 8000, 8), fmt_chunk(1, 1, 7000, 16),
                                 fmt_chunk(1, 3, 8000, 16), fmt_chunk(0x31, 1, 8000, 0)],
                         ids=["alaw", "8-bit", "7kHz", "3-channels", "gsm"])
def test_wavs_we_do_not_convert_are_refused_clearly(tmp_path, fmt):
    path = tmp_path / "a.wav"
    path.write_bytes(b"RIFF\0\0\0\0WAVE" + fmt + b"data" + struct.pack("<I", 800) + b"\0" * 800)
    with pytest.raises(RecordingError) as caught:
        wav.read_info(path)
    assert caught.value.code == errors.UNSUPPORTED


def test_stereo_is_averaged_to_mono(tmp_path):
    path = tmp_path / "a.wav"
    left_right = struct.pack("<8h", 100, 300, -100, -300, 32767, 32767, -32768, -32768)
    path.write_bytes(b"RIFF\0\0\0\0WAVE" + fmt_chunk(1, 2, 8000, 16) + b"data" + struct.pack("<I", 16) + left_right)
    info, samples = read_all(path)
    assert info.channels == 2 and info.frames == 4
    assert struct.unpack("<4h", samples) == (200, -200, 32767, -32768)


def test_wav16_is_read_at_its_own_rate(tmp_path):
    """slin16 goes to LAME at 16 kHz; LAME resamples (see test_recording_mp3)."""
    info, _ = read_all(write_wav(tmp_path / "a.wav", 1.5, rate=16000))
    assert (info.sample_rate, info.frames, info.seconds) == (16000, 24000, 1.5)
