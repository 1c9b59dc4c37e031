"""A real ejabberd 23.01 for tests, run from a scratch directory.

``ejabberdctl`` is not used: as root it switches to the ``ejabberd`` user and refuses to run
anything else, and it wants the system node. We run the Erlang VM directly instead, *without
distribution*: no ``-sname``, so no epmd, no cookie and no node-name clashes between parallel
instances (the node is ``nonode@nohost``; Mnesia keeps its data on disk all the same, so a
restart on the same spool directory keeps the accounts). Administration goes through
``mod_http_api`` on a loopback port instead of ``ejabberdctl``.
"""

from __future__ import annotations

import asyncio
import glob
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from transport.testing.servers.ports import free_ports
from transport.testing.servers.process import ServerProcess, ServerStartError

_STARTED = "is started in the node"
_ALREADY_REGISTERED = 10090


class EjabberdApiError(RuntimeError):
    """An admin command failed: ``status`` is the HTTP status, ``code`` ejabberd's own."""

    def __init__(self, command: str, status: int, body: str) -> None:
        super().__init__(f"ejabberd API {command} failed ({status}): {body}")
        self.status = status
        try:
            self.code: int | None = int(json.loads(body).get("code"))
        except (ValueError, TypeError, AttributeError):
            self.code = None


def find_erl_libs() -> str | None:
    """The directory holding ``ejabberd-*/`` (Debian: /usr/lib/<multiarch>)."""
    found = sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app"))
    return str(Path(found[-1]).parents[2]) if found else None


class EjabberdServer(ServerProcess):
    """ejabberd with one host, plain-text c2s, XEP-0114 components and an HTTP admin API.

    ``components`` maps component domains to their passwords; ``muc_domain`` adds mod_muc.
    ``extra_modules`` are merged into ``modules`` and ``extra_config`` into the top level
    (e.g. ``{"mod_privilege": {...}}``). The config check is strict: an unknown option makes
    ejabberd exit at once, which :meth:`start` reports with the log tail.

    Mnesia writes reach its on-disk log about a second late: after :meth:`kill` (or
    ``restart(kill=True)``) accounts created in the last ~1 s are gone. A SIGTERM
    :meth:`restart` (~2 s to stop) keeps everything.
    """

    kind = "ejabberd"
    start_timeout = 40.0  # 1-2 s normally; a loaded CI machine can be much slower
    stop_timeout = 15.0  # SIGTERM runs init:stop(): ~2 s

    def __init__(
        self,
        components: Mapping[str, str] | None = None,
        *,
        domain: str = "localhost",
        muc_domain: str | None = None,
        extra_modules: Mapping[str, Mapping[str, Any]] | None = None,
        extra_config: Mapping[str, Any] | None = None,
        loglevel: str = "info",
        base_dir: Path | None = None,
        keep_dir: bool | None = None,
    ) -> None:
        erl_libs = find_erl_libs()
        if shutil.which("erl") is None or erl_libs is None:
            raise ServerStartError("ejabberd/erl is not installed; run scripts/bootstrap")
        super().__init__(base_dir=base_dir, keep_dir=keep_dir)
        self.erl_libs = erl_libs
        self.domain = domain
        self.components: dict[str, str] = dict(components or {})
        self.muc_domain = muc_domain
        self.extra_modules = dict(extra_modules or {})
        self.extra_config = dict(extra_config or {})
        self.loglevel = loglevel
        self.config_path = self.dir / "ejabberd.yml"
        self.log_path = self.dir / "ejabberd.log"
        self.spool_dir = self.dir / "spool"
        self.c2s_port = 0
        self.component_port = 0
        self.http_port = 0

    def jid(self, user: str) -> str:
        """The bare JID of ``user`` on this server's host."""
        return f"{user}@{self.domain}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/api"

    # ----------------------------------------------------------------- admin API

    def api(self, command: str, arguments: Mapping[str, Any], timeout: float = 10.0) -> Any:
        """Call an ejabberd admin command over mod_http_api and return its decoded result."""
        request = urllib.request.Request(
            f"{self.api_url}/{command}",
            data=json.dumps(dict(arguments)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            raise EjabberdApiError(command, exc.code, body) from None

    async def aapi(self, command: str, arguments: Mapping[str, Any], timeout: float = 10.0) -> Any:
        """Asynchronous :meth:`api` (a blocking loopback call in a worker thread)."""
        return await asyncio.to_thread(self.api, command, arguments, timeout)

    def register_user(self, user: str, password: str) -> str:
        """Create an account through ``POST /api/register`` (~40 ms); returns its JID.

        Like ``prosodyctl register``, an existing account just gets the new password.
        """
        try:
            self.api("register", {"user": user, "host": self.domain, "password": password})
        except EjabberdApiError as exc:
            if exc.code != _ALREADY_REGISTERED:
                raise
            self.api("change_password", {"user": user, "host": self.domain, "newpass": password})
        return self.jid(user)

    async def aregister_user(self, user: str, password: str) -> str:
        """Asynchronous :meth:`register_user`."""
        return await asyncio.to_thread(self.register_user, user, password)

    # ----------------------------------------------------------------- ServerProcess

    def _assign_ports(self) -> None:
        self.c2s_port, self.component_port, self.http_port = free_ports(3)

    def _ready_ports(self) -> Sequence[int]:
        return (self.c2s_port, self.component_port, self.http_port)

    def _ready_extra(self) -> bool:
        # Listeners are bound a moment before the application has finished starting.
        return _STARTED in self.new_log_text(self.log_path)

    def _command(self) -> list[str]:
        return [
            "erl",
            "-noinput",
            "-noshell",
            "-mnesia", "dir", json.dumps(str(self.spool_dir)),  # an Erlang string literal
            "-s", "ejabberd",
        ]  # fmt: skip

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env.update(
            ERL_LIBS=self.erl_libs,
            EJABBERD_CONFIG_PATH=str(self.config_path),
            EJABBERD_LOG_PATH=str(self.log_path),
            ERL_CRASH_DUMP=str(self.dir / "erl_crash.dump"),
        )
        return env

    def _cwd(self) -> Path:
        return self.spool_dir

    def _log_paths(self) -> list[Path]:
        return [self.log_path, self.output_path]

    def _write_config(self) -> None:
        self.spool_dir.mkdir(exist_ok=True)
        listen: list[dict[str, Any]] = [
            {
                "port": self.c2s_port,
                "ip": self.host,
                "module": "ejabberd_c2s",
                # No certfiles, no starttls: PLAIN and SCRAM are offered on the plain stream.
                "starttls_required": False,
                "max_stanza_size": 1048576,
                "backlog": 1024,  # the default of 5 drops connections in a storm
            },
            {
                "port": self.component_port,
                "ip": self.host,
                "module": "ejabberd_service",
                "backlog": 1024,
                "hosts": {c: {"password": s} for c, s in self.components.items()},
            },
            {
                "port": self.http_port,
                "ip": self.host,
                "module": "ejabberd_http",
                "backlog": 1024,
                "request_handlers": {"/api": "mod_http_api"},
            },
        ]
        modules: dict[str, Any] = {
            "mod_disco": {},
            "mod_ping": {},
            "mod_roster": {},
            "mod_offline": {},
            "mod_http_api": {},
            "mod_admin_extra": {},  # change_password, add_rosteritem, send_message...
        }
        if self.muc_domain:
            modules["mod_muc"] = {"host": self.muc_domain}
        modules.update(self.extra_modules)
        config: dict[str, Any] = {
            "loglevel": self.loglevel,
            "log_rotate_count": 0,
            "hosts": [self.domain],
            "listen": listen,
            "auth_method": "internal",
            "api_permissions": {
                # Anyone on loopback may run any admin command: the API is bound to 127.0.0.1.
                "loopback admin": {"who": {"ip": "127.0.0.1/8"}, "what": "*"},
            },
            "modules": modules,
        }
        config.update(self.extra_config)
        # JSON is valid YAML (flow style), so no YAML library and no quoting surprises.
        self.config_path.write_text(json.dumps(config, indent=2) + "\n")
