"""Scratch directories and child reaping for the real-server fixtures.

Kept apart from the process life cycle in ``process.py``: these helpers also run from
finalizers at interpreter exit, where they must not depend on a fixture object.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

OWNER_FILE = ".transport-test-owner"
_swept: set[str] = set()


def reap(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop ``proc`` (our child) with SIGTERM, then SIGKILL; used by the exit finalizer."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def remove_dir(path: Path, keep: bool) -> None:
    if not keep:
        shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_dirs(kind: str) -> None:
    """Delete scratch directories of ``kind`` whose creating process is gone.

    A test run killed by SIGKILL or SIGTERM runs no finalizers: its servers die with it
    (parent-death signal) but their directories stay behind. Each directory names its
    creator's PID in a marker file; kept directories (``keep_dir``, ``base_dir``) have none.
    """
    if kind in _swept:
        return
    _swept.add(kind)
    for path in Path(tempfile.gettempdir()).glob(f"{kind}-*"):
        try:
            owner = int((path / OWNER_FILE).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if owner != os.getpid() and not _pid_alive(owner):
            shutil.rmtree(path, ignore_errors=True)


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of ``path`` (empty if it does not exist yet)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
