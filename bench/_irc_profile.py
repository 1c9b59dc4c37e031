"""Aggregate py-spy ``-f raw`` stacks (collapsed: ``frame;frame;... count``) by function.

Usage: ``python bench/_irc_profile.py FILE.raw [--top 30] [--thread SUBSTR]``. Prints, per
thread, the share of samples; then self time (innermost frame) and inclusive time (function
anywhere on the stack, counted once per sample) per function, and self time per file.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for raw in path.read_text(errors="replace").splitlines():
        head, _, count = raw.rpartition(" ")
        if not head or not count.isdigit():
            continue
        stacks.append((head.split(";"), int(count)))
    return stacks


def func_of(frame: str) -> str:
    """``name (path/to/file.py:123)`` -> ``name (file.py)``; other frames unchanged."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    short = "/".join(file.split("/")[-2:]) if "/" in file else file
    return f"{m.group('func')} ({short})"


def file_of(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def _role(frames: list[str]) -> str:
    """Without py-spy's --threads labels: tell the threads apart by what their stack runs."""
    text = ";".join(frames)
    if "_run_module_as_main" in text or "run_until_complete" in text:
        return "event loop (main thread)"
    if "_connection_worker_thread" in text:
        return "aiosqlite reader thread"
    if "store/database.py" in text or "store/batch.py" in text:
        return "store writer thread"
    return "other thread"


def report(path: Path, top: int, thread: str | None) -> str:
    stacks = parse(path)
    out = [f"== {path.name}"]
    by_thread: collections.Counter[str] = collections.Counter()
    selected = []
    for frames, count in stacks:
        # py-spy raw: optional "process ..." frame, then "thread (0x..)" frame, then calls.
        idx = next((i for i, f in enumerate(frames) if f.startswith("thread ")), -1)
        name = frames[idx] if idx >= 0 else _role(frames)
        by_thread[name] += count
        if thread is None or thread in name:
            selected.append((frames[idx + 1:], count))
    total_all = sum(by_thread.values()) or 1
    for name, count in by_thread.most_common():
        out.append(f"  {count:6d} samples {100 * count / total_all:5.1f}%  {name}")
    total = sum(c for _, c in selected) or 1
    self_t: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    files: collections.Counter[str] = collections.Counter()
    for frames, count in selected:
        if not frames:
            continue
        self_t[func_of(frames[-1])] += count
        files[file_of(frames[-1])] += count
        for func in {func_of(f) for f in frames}:
            incl[func] += count
    out.append(f"-- self (innermost frame), {total} samples")
    for func, count in self_t.most_common(top):
        out.append(f"  {100 * count / total:5.1f}%  {func}")
    out.append("-- inclusive (on the stack)")
    for func, count in incl.most_common(top):
        out.append(f"  {100 * count / total:5.1f}%  {func}")
    out.append("-- self by file")
    for file, count in files.most_common(top):
        out.append(f"  {100 * count / total:5.1f}%  {file}")
    return "\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--thread", help="only threads whose label contains this")
    args = parser.parse_args()
    for f in args.files:
        print(report(f, args.top, args.thread))
