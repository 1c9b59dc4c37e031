"""The child-process life cycle shared by every real-server fixture.

A server is always our own child: started in the foreground from a fresh temporary directory,
watched by its PID only, stopped with SIGTERM and then SIGKILL, never through a service manager
and never by name. Three layers make sure nothing outlives the test run:

* the pytest fixtures call :meth:`ServerProcess.close` at teardown;
* a :func:`weakref.finalize` per running child stops it at interpreter exit (atexit) or when the
  object is garbage-collected;
* where util-linux ``setpriv`` exists the child gets ``PR_SET_PDEATHSIG=SIGKILL``, so even a
  SIGKILLed pytest (or pytest-timeout's ``os._exit``) takes its servers along. The kernel ties
  that signal to the *thread* that forked the child, so start servers from a long-lived thread
  (the main thread or the event-loop thread), never from a short-lived worker thread.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Self

from transport.testing.servers.ports import LOOPBACK, listening_ports, port_accepts, port_free
from transport.testing.servers.scratch import OWNER_FILE, reap, remove_dir, sweep_stale_dirs, tail

log = logging.getLogger(__name__)

KEEP_DIRS_ENV = "TRANSPORT_KEEP_SERVER_DIRS"
"""Set to 1 to keep every server's temporary directory (config, logs, data) for post-mortems."""

_POLL = 0.02
_SETPRIV = shutil.which("setpriv")


class ServerStartError(RuntimeError):
    """A server did not come up; the message carries the tail of its logs."""


class _PortCollision(ServerStartError):
    """Someone else bound one of our freshly chosen ports first: retry with new ports."""


class ServerProcess(abc.ABC):
    """One server binary run as a foreground child with its config in :attr:`dir`.

    Subclasses choose ports, write the config and name the command; this class owns starting
    (with readiness polling and a retry on port collisions), stopping by PID, restarting on the
    same ports and data, and cleaning up. Sync and async variants exist for every blocking
    call; the async ones poll with ``asyncio.sleep`` so a component under test running on the
    same loop sees the server go away and come back in real time.
    """

    kind: ClassVar[str] = "server"
    host: str = LOOPBACK
    start_timeout: float = 20.0
    stop_timeout: float = 10.0
    start_attempts: int = 5
    #: Log text meaning one of our listeners could not bind (someone took the port).
    bind_failure: ClassVar[re.Pattern[str]] = re.compile(
        r"address already in use|eaddrinuse|in use by another", re.IGNORECASE
    )

    def __init__(self, *, base_dir: Path | None = None, keep_dir: bool | None = None) -> None:
        """``base_dir``: use this directory (created if missing, reused, never deleted) instead
        of a fresh temporary one -- for a demo whose state should outlive the process.
        ``keep_dir``: keep the temporary directory after :meth:`close` (default: the
        ``TRANSPORT_KEEP_SERVER_DIRS`` environment variable)."""
        if base_dir is None:
            sweep_stale_dirs(self.kind)
            self.dir = Path(tempfile.mkdtemp(prefix=f"{self.kind}-"))
            keep = bool(os.environ.get(KEEP_DIRS_ENV)) if keep_dir is None else keep_dir
            if not keep:
                (self.dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
        else:
            self.dir = Path(base_dir).absolute()
            self.dir.mkdir(parents=True, exist_ok=True)
            keep = True
        self.output_path = self.dir / "output.log"
        self._keep_dir = keep
        self._proc: subprocess.Popen[bytes] | None = None
        self._proc_finalizer: weakref.finalize[..., ServerProcess] | None = None
        self._ports_fixed = False
        self._preferred_ports: dict[str, int] = {}
        self._closed = False
        self._log_offsets: dict[Path, int] = {}
        self._ports_confirmed = False
        self._dir_finalizer = weakref.finalize(self, remove_dir, self.dir, self._keep_dir)

    # ----------------------------------------------------------------- subclass hooks

    @abc.abstractmethod
    def _assign_ports(self) -> None:
        """Pick fresh ports from the OS (called before each first-start attempt)."""

    @abc.abstractmethod
    def _write_config(self) -> None:
        """Write the configuration files into :attr:`dir`."""

    @abc.abstractmethod
    def _command(self) -> list[str]:
        """The argv that runs the server in the foreground."""

    @abc.abstractmethod
    def _ready_ports(self) -> Sequence[int]:
        """Ports that must accept connections (and be ours) before the server counts as up."""

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def _cwd(self) -> Path:
        return self.dir

    def _log_paths(self) -> list[Path]:
        """Files whose tails explain a failure; the server's own log first."""
        return [self.output_path]

    def _ready_extra(self) -> bool:
        """Further readiness condition beyond listening ports (e.g. a 'started' log line)."""
        return True

    def _launcher(self) -> list[str]:
        """Prefix for the command: parent-death signal so a killed test run leaves nothing."""
        return [_SETPRIV, "--pdeathsig", "KILL"] if _SETPRIV else []

    # ----------------------------------------------------------------- state

    @property
    def pid(self) -> int | None:
        """PID of the running child, None when stopped."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def returncode(self) -> int | None:
        """Exit status of the last child once it has ended."""
        return None if self._proc is None else self._proc.poll()

    def log_tail(self, lines: int = 30) -> str:
        """The tails of all logs, labelled, for error messages and debugging."""
        parts = []
        for path in self._log_paths():
            text = tail(path, lines)
            if text:
                parts.append(f"--- {path.name} ---\n{text}")
        return "\n".join(parts) or "(no log output)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pid={self.pid} dir={self.dir}>"

    # ----------------------------------------------------------------- start

    def start(self) -> Self:
        """Start the server and block until it accepts connections; returns ``self``."""
        for last in self._attempts():
            self._spawn()
            deadline = time.monotonic() + self.start_timeout
            try:
                while not self._probe():
                    if time.monotonic() >= deadline:
                        raise self._start_error(f"not ready after {self.start_timeout}s")
                    time.sleep(_POLL)
            except BaseException as exc:
                self._abort_attempt(exc, last)
                continue
            self._ports_fixed = True
            break
        return self

    async def astart(self) -> Self:
        """Asynchronous :meth:`start`; the child is forked from the event-loop thread."""
        for last in self._attempts():
            self._spawn()
            deadline = time.monotonic() + self.start_timeout
            try:
                while not self._probe():
                    if time.monotonic() >= deadline:
                        raise self._start_error(f"not ready after {self.start_timeout}s")
                    await asyncio.sleep(_POLL)
            except BaseException as exc:
                self._abort_attempt(exc, last)
                continue
            self._ports_fixed = True
            break
        return self

    def prefer_ports(self, ports: Mapping[str, int]) -> None:
        """Start on these ports (attribute name -> port, e.g. ``{"port": 6667}``) if all are
        free, else on fresh ones: a demo restarted on its old state keeps its addresses."""
        self._preferred_ports = dict(ports)

    def _attempts(self) -> Iterator[bool]:
        """Prepare each start attempt (ports, config); yields whether it is the last one."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        if self._ports_fixed:
            # A restart: same ports and data so that clients and components can reconnect.
            self._write_config()
            yield True
            return
        for attempt in range(self.start_attempts):
            self._assign_ports()
            if attempt == 0 and self._preferred_ports and all(
                    port_free(self.host, port) for port in self._preferred_ports.values()):
                for name, port in self._preferred_ports.items():
                    setattr(self, name, port)
            self._write_config()
            yield attempt == self.start_attempts - 1

    def _abort_attempt(self, exc: BaseException, last: bool) -> None:
        """Kill a child that did not come up; re-raise unless a port race deserves a retry."""
        self.kill()  # no grace period needed for a server nobody used
        if last or not isinstance(exc, _PortCollision):
            raise exc
        log.info("%s: port collision, retrying on fresh ports", self.kind)

    def _spawn(self) -> None:
        argv = self._launcher() + self._command()
        self._ports_confirmed = False
        # Logs are appended to across attempts and restarts; only this run's part counts.
        self._log_offsets = {p: p.stat().st_size if p.exists() else 0 for p in self._log_paths()}
        with self.output_path.open("ab") as out:
            out.write(f"=== {time.strftime('%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            out.flush()
            # A new session: a Ctrl-C on the terminal reaches pytest, which then stops the
            # servers in order, instead of hitting every server at once.
            self._proc = subprocess.Popen(
                argv,
                cwd=self._cwd(),
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._proc_finalizer = weakref.finalize(self, reap, self._proc, self.stop_timeout)
        log.debug("%s started, pid %s", self.kind, self._proc.pid)

    def _probe(self) -> bool:
        """One readiness check: True when up; raises if the child died or lost a port race."""
        assert self._proc is not None
        if self._proc.poll() is not None:
            if self._log_mentions_bind_failure():
                raise _PortCollision(self._message("lost a port race and exited"))
            raise self._start_error(f"exited with status {self._proc.returncode}")
        if not self._ports_confirmed:
            self._ports_confirmed = self._check_ports()
            if not self._ports_confirmed:
                return False
        return self._ready_extra()

    def _check_ports(self) -> bool:
        """Do all our ports accept connections, and are the listening sockets ours?"""
        assert self._proc is not None
        ports = self._ready_ports()
        if not all(port_accepts(self.host, p) for p in ports):
            if self._log_mentions_bind_failure():
                raise _PortCollision(self._message("could not bind all its ports"))
            return False
        # Accepting is not enough: Prosody and InspIRCd log a failed bind and keep running,
        # so the port may belong to a stranger. /proc/net/tcp lists every TIME_WAIT socket
        # on the machine and is slow to read (and slows the starting server down), so this
        # runs only once the ports accept, and once per start.
        owned = listening_ports(self._proc.pid)
        if owned is not None and not set(ports) <= owned:
            if self._log_mentions_bind_failure():
                raise _PortCollision(self._message("could not bind all its ports"))
            return False
        return True

    def _log_mentions_bind_failure(self) -> bool:
        return any(self.bind_failure.search(self.new_log_text(p)) for p in self._log_paths())

    def new_log_text(self, path: Path) -> str:
        """What the current (or last) child has written to ``path`` so far."""
        try:
            with path.open("rb") as f:
                f.seek(self._log_offsets.get(path, 0))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _message(self, what: str) -> str:
        return f"{self.kind} in {self.dir} {what}\n{self.log_tail()}"

    def _start_error(self, what: str) -> ServerStartError:
        return ServerStartError(self._message(what))

    # ----------------------------------------------------------------- stop

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM our child and wait; SIGKILL it if it is not gone after ``timeout``."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._forget()
            return
        proc.terminate()
        try:
            proc.wait(self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s pid %s ignored SIGTERM; sending SIGKILL", self.kind, proc.pid)
            proc.kill()
            proc.wait()
        self._forget()

    async def astop(self, timeout: float | None = None) -> None:
        """Asynchronous :meth:`stop`."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._forget()
            return
        proc.terminate()
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        while proc.poll() is None:
            if time.monotonic() >= deadline:
                log.warning("%s pid %s ignored SIGTERM; sending SIGKILL", self.kind, proc.pid)
                proc.kill()
            await asyncio.sleep(_POLL)
        self._forget()

    def kill(self) -> None:
        """SIGKILL our child (a crash, as far as clients can tell) and reap it."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        self._forget()

    async def akill(self) -> None:
        """Asynchronous :meth:`kill`."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            while proc.poll() is None:
                await asyncio.sleep(_POLL)
        self._forget()

    def restart(self, *, kill: bool = False) -> Self:
        """Stop (SIGTERM, or SIGKILL with ``kill=True``) and start again: same ports, same data."""
        self.kill() if kill else self.stop()
        return self.start()

    async def arestart(self, *, kill: bool = False) -> Self:
        """Asynchronous :meth:`restart`."""
        await (self.akill() if kill else self.astop())
        return await self.astart()

    def close(self) -> None:
        """Stop the server and delete its directory (unless kept); the object is then spent."""
        if self._closed:
            return
        try:
            self.stop()
        finally:
            self._closed = True
            self._dir_finalizer()

    async def aclose(self) -> None:
        """Asynchronous :meth:`close`."""
        if self._closed:
            return
        try:
            await self.astop()
        finally:
            self._closed = True
            self._dir_finalizer()

    def _forget(self) -> None:
        if self._proc_finalizer is not None:
            self._proc_finalizer.detach()
            self._proc_finalizer = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
