"""Recording error codes: stable ids stored in ``recording.error_code`` and shown as alarms."""

from __future__ import annotations

from appliance.errors import DomainError

EMPTY = "recording.empty"  # zero-length or header-only WAV: no audio at all
NOT_WAV = "recording.not_wav"  # not a RIFF/WAVE file
UNSUPPORTED = "recording.unsupported_format"  # a WAV, but not PCM we convert (GSM, A-law, 24-bit...)
DISK_FULL = "recording.disk_full"  # no space to start a recording, or to write its MP3
ENCODER_CRASHED = "recording.encoder_crashed"  # the worker died on this file too many times
ENCODE_FAILED = "recording.encode_failed"  # the encoder or the file system failed otherwise
VERIFY_FAILED = "recording.verify_failed"  # the MP3 we wrote does not read back as it should
MISSING = "recording.missing"  # neither the WAV nor the MP3 exists any more
CHECKSUM_MISMATCH = "recording.checksum_mismatch"  # the stored MP3 is not the one we wrote

ALL = (EMPTY, NOT_WAV, UNSUPPORTED, DISK_FULL, ENCODER_CRASHED, ENCODE_FAILED, VERIFY_FAILED, MISSING,
       CHECKSUM_MISMATCH)


class RecordingError(DomainError):
    """A recording that cannot be converted; ``code`` is one of the ids above."""

    code = ENCODE_FAILED
    http_status = 422
