"""The database file and the directories above it, private to the gateway's user.

The file holds IRC and SASL passwords and message bodies. SQLite gives its ``-wal`` and
``-shm`` files the permission bits of the main file, so creating the main file 0600 before
SQLite first opens it makes all three private whatever the umask; a file left readable by
others by an older release (or by hand) is tightened, once, with a warning.

Every failure here is a ``DatabaseUnusable`` whose message names the path and the cause, for
``run`` to print on one line.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

PRIVATE_FILE: Final = 0o600
PRIVATE_DIR: Final = 0o700
# What SQLite keeps next to the database: the WAL and its index, or a rollback journal
# when something opened the file outside WAL mode.
SIDE_SUFFIXES: Final = ("-wal", "-shm", "-journal")
SQLITE_HEADER: Final = b"SQLite format 3\x00"


class DatabaseUnusable(RuntimeError):
    """The file cannot serve as the gateway's database; the message says which and why."""


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents mode 0700; existing ones stay as they are."""
    missing: list[Path] = []
    current = directory
    while not os.path.lexists(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
            os.chmod(path, PRIVATE_DIR)  # mkdir's mode passes through the umask
        except FileExistsError:
            continue  # created meanwhile by someone else: theirs to keep
        except OSError as exc:
            raise DatabaseUnusable(f"cannot create the directory {path}: {_reason(exc)}") from None
    if not directory.is_dir():
        raise DatabaseUnusable(f"{directory} is not a directory")


def prepare_database_file(path: Path) -> None:
    """Make sure ``path`` exists, is a regular file mode 0600 and may be used by SQLite.

    Creates the directory and an empty file when they are missing; an existing file (and
    its WAL/SHM) with looser modes is tightened, with one warning naming the path.
    """
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        _check_existing(path)
    except OSError as exc:
        raise DatabaseUnusable(f"cannot create {path}: {_reason(exc)}") from None
    else:
        try:
            os.fchmod(fd, PRIVATE_FILE)  # the umask may have taken bits SQLite needs
        finally:
            os.close(fd)
        log.info("created %s (mode 0600)", path)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseUnusable(
            f"{path.parent}: permission denied (SQLite creates {path.name}-wal and "
            f"{path.name}-shm next to the database)")


def _check_existing(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        raise DatabaseUnusable(f"cannot read {path}: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseUnusable(f"{path} is a directory, not a database file")
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseUnusable(f"{path} is not a regular file")
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseUnusable(
            f"{path}: permission denied (the gateway's user must read and write it)")
    # Before changing its mode: a path that names some other file by mistake is left alone.
    if not _looks_like_sqlite(path):
        raise DatabaseUnusable(f"{path} is not a SQLite database (or is corrupt)")
    loose = [(p, mode) for p in (path, *_side_files(path))
             if (mode := stat.S_IMODE(p.stat().st_mode)) & ~PRIVATE_FILE]
    for loose_path, mode in loose:
        try:
            os.chmod(loose_path, PRIVATE_FILE)
        except OSError as exc:
            raise DatabaseUnusable(
                f"cannot make {loose_path} private (mode {mode:04o}): {_reason(exc)}") from None
    if loose:
        log.warning("%s was readable by others (%s); made it mode 0600", path,
                    ", ".join(f"{p.name} {mode:04o}" for p, mode in loose))


def _looks_like_sqlite(path: Path) -> bool:
    """An empty file (SQLite's new database) or one starting with SQLite's header."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseUnusable(f"cannot read {path}: {_reason(exc)}") from None
    return head in (b"", SQLITE_HEADER)


def _side_files(path: Path) -> list[Path]:
    candidates = (path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES)
    return [p for p in candidates if p.is_file()]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
