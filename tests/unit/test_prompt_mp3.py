"""MP3 prompts: a real MP3 made by lameenc is checked frame by frame, decoded by the rootfs's
mpg123 (chrooted, as in development) and stored as an 8 kHz mono WAV like any upload; a
damaged or cut-short MP3 is refused with ``prompt.corrupt`` and leaves nothing behind."""

from __future__ import annotations

import io
import math
import wave
from array import array
from pathlib import Path

import pytest

from appliance.db import models as m
from appliance.errors import ValidationError
from appliance.prompts import PromptError, check_mp3
from appliance.services.config import ConfigService
from appliance.services.prompts import PromptFiles, PromptService, mpg123_decoder

REPO = Path(__file__).resolve().parents[2]


def mp3_bytes(seconds=2.0, rate=44100, channels=2, amplitude=0.4, bitrate=64) -> bytes:
    import lameenc

    samples = array("h")
    for i in range(int(seconds * rate)):
        s = int(amplitude * 32767 * math.sin(2 * math.pi * 440 * i / rate))
        samples.extend([s] * channels)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(2)
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


@pytest.fixture(scope="module")
def rootfs():
    from image_build.rootfs import ensure_rootfs

    return ensure_rootfs(REPO / "build")


@pytest.fixture
def prompts(db, tmp_path, rootfs):
    files = PromptFiles(tmp_path / "prompts", "/appliance/lib/prompts", None)
    return PromptService(db, ConfigService(db), files, mpg123_decoder(rootfs))


def test_frames_are_walked_before_anything_decodes_them():
    good = mp3_bytes()
    source = check_mp3(good)
    assert (source.sample_rate, source.channels) == (44100, 2) and 2.0 <= source.seconds <= 2.2
    assert check_mp3(good + b"TAG" + b"\x00" * 125).seconds == source.seconds  # an ID3v1 tag at the end is fine
    broken = good[:3000] + b"\x55" * 2000 + good[5000:]
    for data, says in ((good[: len(good) // 2 + 7], "truncated"), (broken, "no MP3 frame header"),
                       (b"\xff\xfb" + b"\x00" * 4000, "no MP3 frame header"), (b"ID3\x03" + b"\x00" * 100, "")):
        with pytest.raises(PromptError) as exc:
            check_mp3(data)
        assert exc.value.code == "prompt.corrupt" and says in str(exc.value), data[:8]


def test_a_real_mp3_is_decoded_by_mpg123_into_an_8k_mono_prompt(prompts, tmp_path):
    out = prompts.upload({"name": "welcome-mp3", "language": "zh_CN"}, mp3_bytes(seconds=2.0), actor="admin")
    assert (out["source"], out["source_rate"], out["present"]) == ("upload", 44100, True)
    assert 1.9 <= out["duration_seconds"] <= 2.2, out["duration_seconds"]
    with wave.open(str(tmp_path / "prompts" / "welcome-mp3.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    assert -10 < out["peak_dbfs"] < -5  # the tone's level kept: 0.4 of full scale is -8 dBFS
    audit = m.AuditLog.select().where(m.AuditLog.object_id == "welcome-mp3").get()
    assert '"source_rate": 44100' in audit.detail


def test_a_quiet_mp3_is_raised_like_a_quiet_wav(prompts):
    out = prompts.upload({"name": "quiet"}, mp3_bytes(seconds=1.0, rate=16000, channels=1, amplitude=0.03,
                                                      bitrate=32), actor="admin")
    assert out["gain_db"] > 15 and out["peak_dbfs"] == pytest.approx(-3.0, abs=1.0)


def test_a_broken_mp3_is_refused_with_its_code_and_leaves_nothing(prompts, tmp_path):
    good = mp3_bytes(seconds=1.0)
    for data in (good[:3000] + b"\x00\x55" * 750 + good[4500:], good[: len(good) - 50]):
        with pytest.raises(ValidationError) as exc:
            prompts.upload({"name": "broken"}, data, actor="admin")
        assert exc.value.code == "prompt.corrupt", exc.value
    assert not m.Prompt.select().where(m.Prompt.name == "broken").exists()
    assert not (tmp_path / "prompts").exists() or not list((tmp_path / "prompts").iterdir())


def test_a_decoder_that_gives_up_half_way_is_a_corrupt_file(db, tmp_path):
    """mpg123 exits 0 after giving up on a stream it cannot resync: its output is measured."""
    half = io.BytesIO()
    with wave.open(half, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(array("h", [8000, -8000] * 4000).tobytes())  # 1 s of a 2 s file
    prompts = PromptService(db, ConfigService(db), PromptFiles(tmp_path / "p", "/p", None), lambda data: half.getvalue())
    with pytest.raises(ValidationError) as exc:
        prompts.upload({"name": "half"}, mp3_bytes(seconds=2.0), actor="admin")
    assert exc.value.code == "prompt.corrupt" and "only 1.0 s" in str(exc.value)


def test_without_a_decoder_an_mp3_is_refused_as_unsupported(db, tmp_path):
    prompts = PromptService(db, ConfigService(db), PromptFiles(tmp_path / "p", "/p", None))
    with pytest.raises(ValidationError) as exc:
        prompts.upload({"name": "x"}, mp3_bytes(seconds=0.5), actor="admin")
    assert exc.value.code == "prompt.mp3_unsupported"
