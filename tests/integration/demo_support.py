"""Starting the demo as a user would, and reading what it prints."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path


def start_demo(workdir: Path, *args: str) -> subprocess.Popen[str]:
    """``python -m transport.demo --dir workdir ARGS``, its output piped to the test."""
    return subprocess.Popen(
        [sys.executable, "-m", "transport.demo", "--dir", str(workdir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
    )


async def read_instructions(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """Everything the demo printed up to its "Press Ctrl-C" line."""
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                return

    await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, read), timeout)
    return "".join(lines)


def stop_demo(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


class Printed:
    """The values a person copies from the demo's instructions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.password = self._find(r"password  (\S+)")
        self.port = int(self._find(r"port (\d+) \(STARTTLS"))
        self.cert = self._find(r"certificate file (\S+)")
        self.fingerprint = self._find(r"SHA-256 fingerprint (\S+)")
        self.room = self._find(r"join the room (\S+) with any nick")
        self.irc_port = int(self._find(r"ngIRCd on port (\d+)"))
        self.text_command = self._find(r"^\s+(\S+ -m transport\.testing\.twilio .+)$")
        self.standin_url = self._find(r"--url (\S+)")
        self.account_sid = self._find(r"--account-sid (\S+)")
        self.auth_token = self._find(r"--auth-token (\S+)")

    def _find(self, pattern: str) -> str:
        match = re.search(pattern, self.text, re.M)
        assert match is not None, f"the demo did not print {pattern!r}:\n{self.text}"
        return match.group(1)
