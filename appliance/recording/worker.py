"""The encoding job, and the worker process that runs jobs: ``python -m appliance.recording.worker``.

One job turns one WAV into one MP3. The order of its steps is what makes a crash at any
point harmless (docs/recording.md walks through each point):

1. read the WAV's layout (a cut-short file is recovered, an empty one refused);
2. encode into ``<name>.mp3.part`` next to the final file, hashing what we write;
3. fsync the part, read it back from disk: frames, duration and SHA-256 must match;
4. rename the part to ``<name>.mp3`` (atomic) and fsync the folder.

The job never deletes the WAV: the pipeline does that after the database says the MP3
is complete. A failure removes the part and reports a stable code; the WAV stays.

The worker speaks JSON lines: one job object per line on stdin, one result object per
line on stdout. Its stdout is duplicated for the protocol and file descriptor 1 pointed
at stderr, so nothing a library prints can corrupt an answer. It runs at a lower CPU
priority so that a backlog of encodes never competes with Asterisk for the processor.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from appliance.recording import errors, mp3, wav
from appliance.recording.errors import RecordingError

PART_SUFFIX = ".part"
NICENESS = 10
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def part_path(mp3_path: str | Path) -> Path:
    """Where the MP3 is written before it is complete: same folder, so the rename is atomic."""
    mp3_path = Path(mp3_path)
    return mp3_path.with_name(mp3_path.name + PART_SUFFIX)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path) -> None:
    """``mkdir -p`` that also makes each new folder's name durable in its parent."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            pass
        fsync_dir(folder.parent)


def write_whole(target: Path, data: bytes) -> None:
    """``data`` as ``target``, whole or not at all: a part file beside it, fsync, rename,
    and the folder's entry made durable (the fax PDFs and TIFFs)."""
    ensure_dir(target.parent)
    part = part_path(target)
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    part.replace(target)
    fsync_dir(target.parent)


def write_all(fd: int, data: bytes, write: Callable[[int, bytes], int]) -> None:
    view = memoryview(data)
    while view:
        view = view[write(fd, view):]


def encode_job(job: dict, *, write: Callable[[int, bytes], int] = os.write) -> dict:
    """Run one job: ``{"id", "wav", "mp3", "bitrate_kbps", "quality"}`` -> a result dict.

    ``write`` is the seam through which every MP3 byte goes to disk; tests pass one that
    fails with ENOSPC to stand in for a full disk.
    """
    wav_path, mp3_path = Path(job["wav"]), Path(job["mp3"])
    part = part_path(mp3_path)
    bitrate = job.get("bitrate_kbps", mp3.DEFAULT_BITRATE_KBPS)
    try:
        info = wav.read_info(wav_path)
        ensure_dir(mp3_path.parent)
        digest, written = hashlib.sha256(), 0
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
        try:
            encoder = mp3.make_encoder(info.sample_rate, bitrate, job.get("quality", mp3.DEFAULT_QUALITY))
            for pcm in wav.mono_pcm(wav_path, info):
                out = bytes(encoder.encode(pcm))
                write_all(fd, out, write)
                digest.update(out)
                written += len(out)
            out = bytes(encoder.flush())
            write_all(fd, out, write)
            digest.update(out)
            written += len(out)
            os.fsync(fd)
        finally:
            os.close(fd)
        scan, on_disk = mp3.scan_file(part)
        problem = mp3.verify(scan, info.seconds, bitrate)
        if not problem and (on_disk != digest.hexdigest() or scan.total_bytes != written):
            problem = "the MP3 read back from disk differs from what was written"
        if problem:
            raise RecordingError(problem, code=errors.VERIFY_FAILED)
        os.replace(part, mp3_path)
        fsync_dir(mp3_path.parent)
    except RecordingError as exc:
        part.unlink(missing_ok=True)
        return {"id": job["id"], "ok": False, "code": exc.code, "detail": exc.message}
    except OSError as exc:
        part.unlink(missing_ok=True)
        code = errors.DISK_FULL if exc.errno in _DISK_FULL_ERRNOS else errors.ENCODE_FAILED
        return {"id": job["id"], "ok": False, "code": code, "detail": f"{exc.strerror or exc} ({exc.filename or part})"}
    detail = ""
    if info.repaired:
        detail = f"WAV header was wrong (cut short?); recovered {info.seconds:.1f}s of audio present in the file"
    return {"id": job["id"], "ok": True, "sha256": on_disk, "bytes": written,
            "duration_seconds": round(scan.audio_seconds, 3), "wav_seconds": round(info.seconds, 3),
            "repaired": info.repaired, "detail": detail}


def serve(lines, answer: Callable[[str], None]) -> None:
    """Answer each job line; a line that is not a job gets an error answer, not a crash."""
    for line in lines:
        if not line.strip():
            continue
        try:
            job = json.loads(line)
            result = encode_job(job)
        except (ValueError, KeyError, TypeError) as exc:
            result = {"id": None, "ok": False, "code": errors.ENCODE_FAILED, "detail": f"bad job: {exc}"}
        answer(json.dumps(result))


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill us when the appliance dies, so an orphaned worker never races its
    successor on the same ``.part`` file after a restart."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent_pid and os.getppid() != parent_pid:  # it died before the line above
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="encode call recordings: JSON jobs on stdin, results on stdout")
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        os.nice(NICENESS)
    except OSError:
        pass

    def answer(text: str) -> None:
        protocol.write(text + "\n")
        protocol.flush()

    serve(sys.stdin, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
