"""One encoding job (``worker.encode_job``) at the default LAME setting, on the WAVs a crash
or an odd call leaves: the MP3 is made and its duration is the WAV's to the frame, or the
file is refused with the reason it always had."""

from __future__ import annotations

import pytest
from wavfiles import write_wav, zero_sizes

from appliance.recording import errors, mp3
from appliance.recording.worker import encode_job

FRAME_SECONDS = 576 / 8000


def job(tmp_path, wav):
    return encode_job({"id": 1, "wav": str(wav), "mp3": str(tmp_path / "out" / "a.mp3")})


@pytest.mark.parametrize("samples", [1, 575, 577, 8000 * 37 + 3])
@pytest.mark.parametrize("crash", [False, True])
def test_odd_lengths_and_sizes_a_crash_left_encode_to_the_frame(tmp_path, samples, crash):
    wav = write_wav(tmp_path / "a.wav", samples / 8000)
    if crash:
        zero_sizes(wav)
        with open(wav, "ab") as f:
            f.write(b"\x01")  # cut in the middle of a sample
    result = job(tmp_path, wav)
    assert result["ok"], result
    assert result["repaired"] is crash and result["wav_seconds"] == round(samples / 8000, 3)
    scan, sha = mp3.scan_file(tmp_path / "out" / "a.mp3")
    assert scan.problem == "" and sha == result["sha256"] and scan.total_bytes == result["bytes"]
    assert scan.frames == -(-(samples + mp3.LAME_EXTRA_SAMPLES) // 576)  # LAME's delay and flush, no more
    assert 0 <= scan.audio_seconds - samples / 8000 < FRAME_SECONDS
    assert not (tmp_path / "out" / "a.mp3.part").exists()


@pytest.mark.parametrize("content, code", [
    (b"", errors.EMPTY),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", errors.EMPTY),  # cut inside its header
    (b"ID3\x04" + b"\x00" * 60, errors.NOT_WAV),
])
def test_files_without_audio_are_refused_with_their_reason_and_leave_nothing(tmp_path, content, code):
    wav = tmp_path / "a.wav"
    wav.write_bytes(content)
    result = job(tmp_path, wav)
    assert not result["ok"] and result["code"] == code, result
    assert not list(tmp_path.rglob("*.mp3*"))  # no MP3, no part file
    assert wav.read_bytes() == content  # the job never deletes the WAV
