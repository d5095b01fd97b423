"""MP3 at 8 kHz mono 8 kbit/s: size, duration, and our frame scanner catching bad files."""

from __future__ import annotations

import pytest
from wavfiles import pcm

from appliance.recording import mp3


def encode(seconds, rate=8000, bitrate=8):
    encoder = mp3.make_encoder(rate, bitrate)
    data = pcm(seconds, rate)
    out = bytearray()
    for start in range(0, len(data), 32000):
        out += encoder.encode(data[start:start + 32000])
    return bytes(out + encoder.flush())


def scan(data, step=None):
    scanner = mp3.FrameScanner()
    step = step or len(data) or 1
    for start in range(0, len(data), step):
        scanner.feed(data[start:start + step])
    return scanner.result()


def test_frame_header_of_8khz_8kbits_mono():
    header = mp3.parse_header(bytes.fromhex("ffe318c4"))
    assert header == mp3.FrameHeader(version=25, bitrate_kbps=8, sample_rate=8000, length=72, samples=576, mono=True)
    assert mp3.parse_header(bytes.fromhex("fffb9064")).length == 417  # MPEG-1 128 kbit/s 44.1 kHz
    assert mp3.parse_header(bytes.fromhex("ffe518c4")) is None  # layer II
    assert mp3.parse_header(bytes.fromhex("ffeb18c4")) is None  # reserved version
    assert mp3.parse_header(b"RIFF") is None


@pytest.mark.parametrize("seconds", [1, 37.3, 300])
def test_default_format_size_and_duration(seconds):
    data = encode(seconds)
    result = scan(data)
    assert result.problem == "" and result.sample_rate == 8000
    assert len(data) == 72 * result.frames  # constant bitrate, no padding at 8 kHz/8 kbit/s
    # 1,000 bytes per second of audio, plus LAME's fixed 2-3 frames (encoder delay, flush)
    assert 1000 * seconds + 2 * 72 <= len(data) <= 1000 * seconds + 4 * 72
    assert abs(result.audio_seconds - seconds) <= 0.1
    assert mp3.verify(result, seconds, 8) == ""


def test_a_five_minute_call_stays_within_a_kilobyte_per_second():
    assert len(encode(300)) / 300 <= 1024


def test_the_encoding_is_deterministic():
    """A file encoded again after a crash is byte for byte the same."""
    assert encode(5) == encode(5)


def test_bitrate_is_configurable():
    data = encode(10, bitrate=16)
    result = scan(data)
    assert result.problem == "" and abs(len(data) / 10 - 2000) < 60
    with pytest.raises(ValueError, match="bitrate"):
        mp3.make_encoder(8000, 12)


def test_wav16_is_resampled_to_8khz():
    result = scan(encode(4, rate=16000))
    assert result.sample_rate == 8000 and abs(result.audio_seconds - 4) <= 0.1


def test_scanning_in_small_pieces_finds_the_same():
    data = encode(3)
    assert scan(data, step=7) == scan(data)


def test_truncation_mid_frame_is_found():
    data = encode(3)
    result = scan(data[:-30])
    assert "truncated" in result.problem
    assert mp3.verify(result, 3) == result.problem


def test_truncation_on_a_frame_boundary_is_found_by_duration():
    data = encode(3)
    result = scan(data[:-72 * 3])
    assert result.problem == ""
    assert "MP3 holds" in mp3.verify(result, 3)


def test_garbage_and_emptiness_are_found():
    assert "no MP3 frame header at byte 72" in scan(encode(1)[:72] + b"\0" * 200).problem
    assert scan(b"").problem == "no MP3 frames"
    assert scan(b"RIFF....WAVEfmt ").problem.startswith("no MP3 frame header at byte 0")


def test_an_id3_tag_is_skipped():
    data = encode(2)
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"T" * 10
    assert scan(tag + data, step=5).frames == scan(data).frames


def test_a_different_sample_rate_fails_verification():
    encoder = mp3.make_encoder(8000)
    encoder.set_out_sample_rate(16000)
    data = bytes(encoder.encode(pcm(2)) + encoder.flush())
    assert "16000 Hz" in mp3.verify(scan(data), 2)


def frame_by_frame(data):
    """What the scanner finds when every frame's header is parsed one by one (no runs)."""
    scanner = mp3.FrameScanner()
    for start in range(0, len(data), 72):
        scanner.feed(data[start:start + 72])  # one frame per feed: a run is never longer than one
    return scanner.result()


@pytest.mark.parametrize("frame", [0, 1, 70, 140])
def test_a_changed_header_inside_a_run_of_frames_is_found_where_it_is(frame):
    data = encode(10)
    assert len(data) == 72 * 141
    lost_sync = bytearray(data)
    lost_sync[72 * frame] = 0
    result = scan(bytes(lost_sync))
    assert result == frame_by_frame(bytes(lost_sync))
    assert result.problem == f"no MP3 frame header at byte {72 * frame}" and result.frames == frame
    emphasis = bytearray(data)
    emphasis[72 * frame + 3] ^= 0x01  # still a valid frame of the same format: counted
    assert scan(bytes(emphasis)) == frame_by_frame(bytes(emphasis)) == scan(data)


def test_a_frame_of_another_bitrate_inside_a_run_is_counted_as_parsing_would():
    """A 16 kbit/s frame (144 bytes) among 8 kbit/s ones: the run stops there, parsing goes on."""
    low, high = encode(2), encode(2, bitrate=16)
    data = low[:72 * 10] + high[:144] + low[72 * 10:]
    result = scan(data)
    assert result == frame_by_frame(data)
    assert result.frames == scan(low).frames + 1 and result.problem == ""


@pytest.mark.parametrize("samples", [1, 575, 576, 577, 8000 * 3 + 1, 8000 * 60 + 333])
def test_the_default_quality_keeps_the_frame_count_of_every_length(samples):
    """LAME's speed setting changes how frames are quantised, not how many: the MP3's
    duration stays what ``LAME_EXTRA_SAMPLES`` says, to the frame, for odd lengths too."""
    encoder = mp3.make_encoder(8000)
    data = bytes(encoder.encode(pcm(samples / 8000)) + encoder.flush())
    assert scan(data).frames == -(-(samples + mp3.LAME_EXTRA_SAMPLES) // 576)


def test_the_default_quality_is_lames_fast_one():
    """-q 7 (no noise shaping): at 8 kbit/s it measured better SNR and band distortion than
    -q 2 on 21 minutes of recorded speech, at 2-3x the speed (docs/recording.md)."""
    assert mp3.DEFAULT_QUALITY == 7
    fast, slow = mp3.make_encoder(8000), mp3.make_encoder(8000, quality=2)
    audio = pcm(3)
    assert bytes(fast.encode(audio) + fast.flush()) != bytes(slow.encode(audio) + slow.flush())
