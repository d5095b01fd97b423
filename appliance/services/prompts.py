"""Prompts: uploaded recordings and Asterisk's own sounds, by name.

An upload is converted (``appliance.prompts.convert_wav``: numpy, a block at a time) in a
worker thread, never on the loop that serves calls, and written atomically as ``<name>.wav`` in the prompts
folder, which Asterisk sees at ``asterisk_dir``.  An MP3 is checked frame by frame, then
decoded to an 8 kHz mono WAV by mpg123 from the rootfs (``mpg123_decoder``: a child
process through ``proc.filter_through``, which gevent waits on without blocking the
loop), and goes on as a WAV upload.  A prompt of source ``sound`` names one
of Asterisk's core sounds (the English built-in set, seeded by migration 0013), one of
source ``builtin`` one of the appliance's own sentences (``appliance.sounds``, Chinese and
English, seeded by migration 0019).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from peewee import fn

from appliance import gsm610, proc, sounds
from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, ValidationError
from appliance.prompts import RATE, Converted, PromptError, check_mp3, convert_wav, looks_like_mp3

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# mpg123 as a filter: MP3 on standard input, a 16-bit mono WAV at the phone's rate in its
# private output file (a WAV's header is written last, so not on a pipe).
MPG123 = ("mpg123", "--quiet", "--mono", "--rate", str(RATE), "--encoding", "s16", "--wav", "{out}", "-")
MP3_DECODE_SECONDS = 60.0
# an uploaded MP3 is untrusted input to a C decoder: as nobody, bounded (the WAV of 300 s is 4.8 MB)
MP3_DECODE_LIMITS = proc.Limits(cpu_seconds=30, memory_bytes=256 * 1024 * 1024, file_bytes=16 * 1024 * 1024)

Mp3Decoder = Callable[[bytes], bytes]


def mpg123_decoder(rootfs: str | os.PathLike | None) -> Mp3Decoder:
    """MP3 bytes -> WAV bytes with the rootfs's mpg123 (chrooted into ``rootfs`` when set)."""

    def decode(data: bytes) -> bytes:
        try:
            return proc.filter_through(MPG123, data, what="decode an MP3 prompt", rootfs=rootfs or None,
                                       timeout=MP3_DECODE_SECONDS, limits=MP3_DECODE_LIMITS, unprivileged=True)
        except proc.CommandFailed as exc:
            logger.warning("%s", exc)
            raise PromptError(f"the MP3 file could not be decoded: {exc.output.strip()[-200:]}",
                              "prompt.corrupt") from None

    return decode


@dataclass(frozen=True)
class PromptFiles:
    """Where prompt audio lives: ``host_dir`` as this process sees it, ``asterisk_dir`` as
    Asterisk does; ``sounds_dir`` is Asterisk's sound folder (for ``sound`` prompts);
    ``builtin_dir`` holds the appliance's own sentences (``appliance.sounds``, for
    ``builtin`` prompts), which Asterisk plays from ``builtin_asterisk_dir``."""

    host_dir: Path
    asterisk_dir: str
    sounds_dir: Path | None = None
    builtin_asterisk_dir: str = "/appliance/lib/" + sounds.FOLDER
    builtin_dir: Path = sounds.SOURCE_DIR

    def playable(self, prompt) -> str:
        """The name Asterisk plays (no extension)."""
        if prompt.source == "sound":
            return prompt.sound
        if prompt.source == "builtin":
            return f"{self.builtin_asterisk_dir}/{prompt.sound}"
        return f"{self.asterisk_dir}/{Path(prompt.file).stem}"

    def present(self, prompt) -> bool:
        if prompt.source == "sound":
            if self.sounds_dir is None:
                return True
            return any(self.sounds_dir.glob(f"{prompt.sound}.*"))
        if prompt.source == "builtin":
            return any(self.builtin_dir.glob(f"{prompt.sound}.*"))
        return bool(prompt.file) and (self.host_dir / prompt.file).is_file()


def resolve_in_root(root: Path, path: str, max_links: int = 20) -> Path:
    """``path`` inside the tree at ``root`` with its symbolic links followed as they would be
    from inside a chroot there (Debian points sounds/en at /etc/alternatives/...)."""
    parts = [p for p in path.split("/") if p]
    current = root
    links = 0
    while parts:
        part = parts.pop(0)
        candidate = current / part
        if candidate.is_symlink() and links < max_links:
            links += 1
            target = str(candidate.readlink())
            parts = [p for p in target.split("/") if p] + parts
            current = root if target.startswith("/") else current
            continue
        current = candidate
    return current


def run_in_thread(fn, *args):
    """Run CPU-bound work off the gevent loop (the hub's thread pool), or inline without gevent."""
    try:
        import gevent

        return gevent.get_hub().threadpool.apply(fn, args)
    except ImportError:  # pragma: no cover
        return fn(*args)


class PromptService:
    def __init__(self, db, config, files: PromptFiles, decode_mp3: Mp3Decoder | None = None):
        self.db = db
        self.config = config
        self.files = files
        self.decode_mp3 = decode_mp3  # None: MP3 uploads are refused (prompt.mp3_unsupported)
        self.saved: list[Callable[[Path], None]] = []  # each prompt file written (hot standby copies it)

    def convert(self, audio: bytes) -> Converted:
        """An uploaded WAV or MP3 -> what Asterisk plays, or ``PromptError``."""
        if not looks_like_mp3(audio):
            return run_in_thread(convert_wav, audio)
        if self.decode_mp3 is None:
            raise PromptError("MP3 files cannot be converted here (no decoder); upload a WAV file",
                              "prompt.mp3_unsupported")
        source = run_in_thread(check_mp3, audio)
        converted = run_in_thread(convert_wav, self.decode_mp3(audio))
        if converted.duration_seconds < source.seconds * 0.9 - 0.1:  # the decoder gave up part of the way
            raise PromptError(f"only {converted.duration_seconds:.1f} s of the MP3's {source.seconds:.1f} s could be "
                              "decoded", "prompt.corrupt")
        return dataclasses.replace(converted, source_rate=source.sample_rate, source_channels=source.channels)

    def _view(self, prompt) -> dict:
        out = self.config.view("prompts", prompt)
        out.update({"number": prompt.id, "source": prompt.source, "sound": prompt.sound, "duration_seconds": prompt.duration_seconds,
                    "peak_dbfs": prompt.peak_dbfs, "rms_dbfs": prompt.rms_dbfs, "present": self.files.present(prompt),
                    "used_by": self._used_by(prompt)})
        return out

    @staticmethod
    def _used_by(prompt) -> list[str]:
        users = [f"menu {x.name}" for x in m.Menu.select().where(m.Menu.prompt == prompt.id)]
        users += [f"queue {q.name} (survey)" for q in m.Queue.select().where(m.Queue.survey_prompt == prompt.name)]
        users += [f"campaign {c.name}" for c in m.Campaign.select().where(  # its message, or a survey question
            (m.Campaign.prompt == prompt.name) | m.Campaign.questions.contains(f'"{prompt.name}"'))]
        return users

    def list(self) -> list[dict]:
        return [self._view(p) for p in m.Prompt.select().order_by(m.Prompt.name)]

    def get(self, name: str) -> dict:
        return self._view(self.config.get_row("prompts", name))

    def audio(self, name: str) -> Path | bytes:
        """What a browser plays for prompt ``name``: the WAV file of an upload, or a built-in
        sound as WAV bytes (a ``.wav`` of it as it is, a ``.gsm``, the format of Asterisk's
        core sounds and of ours, decoded in a worker thread).  NotFound
        ``prompt.file_missing`` when its audio is not on the disk, ``prompt.not_playable``
        when it is only in a format neither a browser nor we decode."""
        prompt = self.config.get_row("prompts", name)
        if prompt.source == "upload":
            path = self.files.host_dir / prompt.file
            if not prompt.file or not path.is_file():
                raise NotFound(f"the audio of prompt {name} is not on the disk", code="prompt.file_missing")
            return path
        folder = self.files.builtin_dir if prompt.source == "builtin" else self.files.sounds_dir
        files = {p.suffix: p for p in folder.glob(f"{prompt.sound}.*")} if folder is not None else {}
        if ".wav" in files:
            return files[".wav"]
        if ".gsm" in files:
            return run_in_thread(gsm610.to_wav, files[".gsm"].read_bytes())
        raise NotFound(f"prompt {name} has no audio a browser can play", code="prompt.file_missing" if not files
                       else "prompt.not_playable")

    def upload(self, data: dict, audio: bytes, actor: str) -> dict:
        """Create prompt ``data['name']`` (or replace its audio) from an uploaded WAV or MP3."""
        values = self.config.clean("prompts", data, creating=True)
        if not audio:
            raise ValidationError("no audio file was sent", code="prompt.empty",
                                  fields={"file": FieldError("field.required", "required")})
        if len(audio) > MAX_UPLOAD_BYTES:
            raise ValidationError("the file is larger than 20 MB", code="prompt.too_large",
                                  fields={"file": FieldError("field.file_too_large", "too large")})
        return self._store(values, self.converted(audio), actor, how="uploaded")

    def converted(self, audio: bytes) -> Converted:
        """``convert``, with a refusal as the ``ValidationError`` the API and pages show."""
        try:
            return self.convert(audio)
        except PromptError as exc:
            raise ValidationError(f"the prompt cannot be used: {exc}", code=exc.code, fields={"file": str(exc)}) from None

    def recordable(self, number: str):
        """Prompt number ``number`` (its id) if a recording may replace its audio: an uploaded
        or recorded one, never a built-in sound."""
        prompt = m.Prompt.get_or_none(m.Prompt.id == int(number)) if number.isdigit() else None
        return prompt if prompt is not None and prompt.source == "upload" else None

    def record(self, number: str, audio: bytes, actor: str, *, language: str, description: str) -> dict:
        """A recording made on a phone (a WAV) becomes the audio of prompt ``number``, whose
        name, description and language stay, or, with no number, a new prompt
        ``recorded-<number>`` in ``language``."""
        converted = self.converted(audio)
        if number:
            prompt = self.recordable(number)
            if prompt is None:
                raise NotFound(f"no prompt number {number} that a recording may replace", code="prompts.not_recordable")
            values = {"name": prompt.name, "description": prompt.description, "language": prompt.language}
        else:
            values = {"name": self._free_name(), "description": description, "language": language}
        return self._store(values, converted, actor, how="recorded on a phone")

    @staticmethod
    def _free_name() -> str:
        n = (m.Prompt.select(fn.MAX(m.Prompt.id)).scalar() or 0) + 1
        while m.Prompt.select().where(m.Prompt.name == f"recorded-{n}").exists():
            n += 1
        return f"recorded-{n}"

    def _store(self, values: dict, converted: Converted, actor: str, how: str) -> dict:
        """Write the converted audio as ``<name>.wav`` and create or update the prompt row."""
        name = values["name"]
        filename = f"{name}.wav"
        self.files.host_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.files.host_dir / f".{filename}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(converted.wav)
            fh.flush()
            os.fsync(fh.fileno())
        with self.config.transaction():
            prompt = m.Prompt.get_or_none(m.Prompt.name == name)
            existed = prompt is not None
            if prompt is not None and prompt.source != "upload":  # a core sound or one of ours
                tmp.unlink(missing_ok=True)
                raise Conflict(f"prompt {name} is one of the built-in sounds", code="prompts.exists",
                               fields={"name": FieldError("field.builtin_prompt", "a built-in prompt")})
            fields = dict(values, source="upload", file=filename, duration_seconds=converted.duration_seconds,
                          peak_dbfs=converted.peak_dbfs, rms_dbfs=converted.rms_dbfs)
            if prompt is None:
                prompt = m.Prompt.create(**fields)
            else:
                for attr, value in fields.items():
                    setattr(prompt, attr, value)
                prompt.save()
            os.replace(tmp, self.files.host_dir / filename)
            self.config.log_change(actor, "update" if existed else "create", "prompts", name, {
                "how": how, "duration_seconds": converted.duration_seconds, "source_rate": converted.source_rate,
                "source_channels": converted.source_channels, "peak_dbfs": converted.peak_dbfs,
                "gain_db": converted.gain_db})
        logger.info("%s: prompt %s %s (%.1f s from %s Hz x%s, peak %s dBFS, +%s dB)", actor, name, how,
                    converted.duration_seconds, converted.source_rate, converted.source_channels,
                    converted.peak_dbfs, converted.gain_db)
        for listener in self.saved:
            listener(self.files.host_dir / filename)
        self.config.apply()
        return {**self.get(name), "gain_db": converted.gain_db, "source_rate": converted.source_rate}

    def delete(self, name: str, actor: str) -> None:
        with self.config.transaction():
            prompt = self.config.get_row("prompts", name)
            users = self._used_by(prompt)
            if users:
                raise Conflict(f"prompt {name} is still used by {', '.join(users)}", code="prompts.in_use")
            prompt.delete_instance()
            self.config.log_change(actor, "delete", "prompts", name, {})
        if prompt.file:
            (self.files.host_dir / prompt.file).unlink(missing_ok=True)
        self.config.apply()
