"""Processes for the IRC benchmark: biboumi as a ServerProcess, our gateway, XMPP accounts.

biboumi listens on nothing (it connects out to the XMPP server), so it counts as up once
its log says it authenticated with the component secret. Like every fixture server it is our
child, in a temporary directory, with a parent-death signal, stopped by PID.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from transport.testing.gateway import GatewayProcess
from transport.testing.servers.process import ServerProcess, ServerStartError

_SETPRIV = shutil.which("setpriv")


class BiboumiServer(ServerProcess):
    """Debian's biboumi 9.0 with its config and SQLite database in :attr:`dir` (on disk)."""

    kind = "biboumi"
    stop_timeout = 15.0

    def __init__(self, domain: str, secret: str, xmpp_port: int, *, log_level: int = 1) -> None:
        if shutil.which("biboumi") is None:
            raise ServerStartError("biboumi is not installed (Debian package biboumi)")
        super().__init__()
        self.domain = domain
        self.secret = secret
        self.xmpp_port = xmpp_port
        self.log_level = log_level
        self.config_path = self.dir / "biboumi.cfg"
        self.db_path = self.dir / "biboumi.sqlite"
        self.log_path = self.dir / "biboumi.log"

    def _assign_ports(self) -> None:
        pass  # no listener: identd is turned off below

    def _ready_ports(self) -> Sequence[int]:
        return ()

    def _command(self) -> list[str]:
        return ["biboumi", str(self.config_path)]

    def _log_paths(self) -> list[Path]:
        return [self.log_path, self.output_path]

    def _ready_extra(self) -> bool:
        return "Authenticated with the XMPP server" in self.new_log_text(self.log_path)

    def _write_config(self) -> None:
        settings = {
            "hostname": self.domain,
            "password": self.secret,
            "xmpp_server_ip": "127.0.0.1",
            "port": str(self.xmpp_port),
            "db_name": str(self.db_path),  # SQLite on disk, biboumi's default engine
            "log_file": str(self.log_path),
            "log_level": str(self.log_level),  # 0 debug, 1 info, 2 warning, 3 error
            "identd_port": "0",  # the default 113 would bind a privileged port
            "realname_customization": "true",
            "realname_from_jid": "false",
            "persistent_by_default": "false",
            "admin": "",
        }
        self.config_path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))


class BenchGateway(GatewayProcess):
    """Our gateway as a child process (as in production), with a parent-death signal."""

    def start(self) -> None:
        log = self.log_path.open("ab")
        prefix = [_SETPRIV, "--pdeathsig", "KILL"] if _SETPRIV else []
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "transport", "run", "--config", str(self.config),
             "--log-level", self.log_level],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=dict(os.environ),
            start_new_session=True,
        )
        log.close()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; never raises."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


def prosody_account_file(password: str, iterations: int = 10_000) -> str:
    """The ``accounts/USER.dat`` Prosody's internal_hashed writes for ``password``.

    SCRAM-SHA-1 keys depend on the password and salt only, never on the user name, so one
    computed file serves every account.
    """
    salt = str(uuid.uuid4())
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), iterations)
    stored_key = hashlib.sha1(hmac.new(salted, b"Client Key", "sha1").digest()).hexdigest()
    server_key = hmac.new(salted, b"Server Key", "sha1").hexdigest()
    return (
        "return {\n"
        f'\t["iteration_count"] = {iterations};\n'
        f'\t["salt"] = "{salt}";\n'
        f'\t["stored_key"] = "{stored_key}";\n'
        f'\t["server_key"] = "{server_key}";\n'
        "};\n"
    )


def precreate_accounts(data_dir: Path, domain: str, users: Sequence[str], password: str) -> float:
    """Write Prosody account files for ``users`` before Prosody starts; returns seconds."""
    start = time.perf_counter()
    # Prosody's datamanager escapes the host with %XX for anything but [a-zA-Z0-9]; a
    # plain "localhost" stays as it is.
    accounts = data_dir / domain / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    text = prosody_account_file(password)
    for user in users:
        (accounts / f"{user}.dat").write_text(text)
    return time.perf_counter() - start


def rss_kib(pid: int | None) -> int:
    """Resident memory of ``pid`` from /proc (VmRSS), in KiB; 0 when it is gone."""
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time consumed so far by ``pid`` (all threads)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_summary(path: Path) -> str:
    """nproc, CPU model, memory and the disk holding ``path``."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    disk = "?"
    try:
        out = subprocess.run(["df", "-T", "-h", str(path)], capture_output=True, text=True,
                             timeout=10, check=False).stdout.splitlines()
        if len(out) >= 2:
            dev, fstype, size = out[1].split()[:3]
            disk = f"{dev} {fstype} {size}"
    except (OSError, subprocess.SubprocessError):
        pass
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPU ({cpu}), {mem_kib / 1024 / 1024:.1f} GiB RAM, "
            f"temp dir on {disk}; load average at start {load[0]:.2f}")
