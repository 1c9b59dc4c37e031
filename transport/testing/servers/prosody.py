"""A real Prosody 0.12 for tests, run from a scratch directory."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from transport.testing.servers.certificates import SelfSignedCertificate
from transport.testing.servers.ports import free_ports
from transport.testing.servers.process import ServerProcess, ServerStartError

#: Modules every test server loads. "tls" is added only with a certificate: without one
#: Prosody would still offer STARTTLS and every handshake would fail ("no shared cipher").
BASE_MODULES: tuple[str, ...] = (
    "roster",
    "saslauth",
    "disco",
    "register",
    "ping",
    "posix",
    "offline",
    "carbons",
)


def lua_string(value: str) -> str:
    """Quote ``value`` as a Lua string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )
    return f'"{escaped}"'


def _lua_list(values: Sequence[str]) -> str:
    return "{ " + "; ".join(lua_string(v) for v in values) + " }"


class ProsodyServer(ServerProcess):
    """Prosody with one VirtualHost, c2s and XEP-0114 components.

    c2s is plain text unless ``tls`` is set: then a self-signed certificate for the domain
    and its subdomains is made and STARTTLS is offered (optional, so plain-text test clients
    still log in); :attr:`certificate` holds its files and fingerprint. ``http_upload`` adds
    an XEP-0363 service ``upload.DOMAIN`` (mod_http_file_share) on :attr:`http_port`.

    ``nagle`` keeps Prosody's default network settings (Nagle's algorithm on, as most
    servers run); by default it is turned off (``network_settings = { nagle = false }``),
    the tuning docs/admin.md offers as an extra.

    ``components`` maps component domains to their secrets. ``muc_domain`` adds a normal MUC
    service. ``extra_modules`` are enabled globally; ``extra_global`` / ``extra_vhost`` are raw
    Lua lines for the global section and the VirtualHost, and ``extra_component`` maps a
    component domain to raw Lua lines for its section -- together enough for mod_privilege::

        ProsodyServer(
            {"sms.localhost": "s"},
            extra_modules=["privilege"],
            extra_vhost=['privileged_entities = { ["sms.localhost"] = { roster = "both" } }'],
            extra_component={"sms.localhost": ['modules_enabled = { "privilege" }']},
        )
    """

    kind = "prosody"

    def __init__(
        self,
        components: Mapping[str, str] | None = None,
        *,
        domain: str = "localhost",
        muc_domain: str | None = None,
        extra_modules: Sequence[str] = (),
        extra_global: Sequence[str] = (),
        extra_vhost: Sequence[str] = (),
        extra_component: Mapping[str, Sequence[str]] | None = None,
        base_dir: Path | None = None,
        keep_dir: bool | None = None,
        tls: bool = False,
        http_upload: bool = False,
        nagle: bool = False,
    ) -> None:
        for binary in ("prosody", "prosodyctl"):
            if shutil.which(binary) is None:
                raise ServerStartError(f"{binary} is not installed; run scripts/bootstrap")
        super().__init__(base_dir=base_dir, keep_dir=keep_dir)
        self.domain = domain
        self.components: dict[str, str] = dict(components or {})
        self.muc_domain = muc_domain
        self.extra_modules = tuple(extra_modules)
        self.extra_global = tuple(extra_global)
        self.extra_vhost = tuple(extra_vhost)
        self.extra_component = {k: tuple(v) for k, v in (extra_component or {}).items()}
        self.config_path = self.dir / "prosody.cfg.lua"
        self.log_path = self.dir / "prosody.log"
        self.data_dir = self.dir / "data"
        self.c2s_port = 0
        self.component_port = 0
        #: Bound only if some enabled module serves HTTP (e.g. http_file_share).
        self.http_port = 0
        self.tls = tls
        self.certificate: SelfSignedCertificate | None = None
        self.upload_domain = f"upload.{domain}" if http_upload else None
        self.nagle = nagle

    def jid(self, user: str) -> str:
        """The bare JID of ``user`` on this server's VirtualHost."""
        return f"{user}@{self.domain}"

    # ----------------------------------------------------------------- users

    def register_user(self, user: str, password: str) -> str:
        """Create an account with prosodyctl (~40 ms; works while running); returns its JID."""
        result = subprocess.run(
            self._register_argv(user, password),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        self._check_register(result.returncode, result.stdout + result.stderr, user)
        return self.jid(user)

    async def aregister_user(self, user: str, password: str) -> str:
        """Asynchronous :meth:`register_user`."""
        proc = await asyncio.create_subprocess_exec(
            *self._register_argv(user, password),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        self._check_register(proc.returncode, out.decode(errors="replace"), user)
        return self.jid(user)

    def _register_argv(self, user: str, password: str) -> list[str]:
        # --config must come first: prosodyctl otherwise reads /etc/prosody and writes the
        # account into the system server's data directory.
        return [
            "prosodyctl", "--config", str(self.config_path), "register", user, self.domain,
            password,
        ]  # fmt: skip

    def _check_register(self, code: int | None, output: str, user: str) -> None:
        if code != 0:
            raise RuntimeError(f"prosodyctl register {user} failed ({code}): {output.strip()}")

    # ----------------------------------------------------------------- ServerProcess

    def _assign_ports(self) -> None:
        self.c2s_port, self.component_port, self.http_port = free_ports(3)

    def _ready_ports(self) -> Sequence[int]:
        # Prosody opens the component listener only when some Component is configured.
        return (self.c2s_port, self.component_port) if self.components else (self.c2s_port,)

    def _command(self) -> list[str]:
        # -F: foreground, no daemonizing, so the PID we hold is the server.
        return ["prosody", "--config", str(self.config_path), "-F"]

    def _log_paths(self) -> list[Path]:
        return [self.log_path, self.output_path]

    def _ready_extra(self) -> bool:
        # Prosody logs a module that fails to load (a typo in extra_modules, a missing
        # prosody-modules package) and carries on without it; a test server must not.
        errors = [
            line for line in self.new_log_text(self.log_path).splitlines() if "\terror\t" in line
        ]
        if errors:
            raise ServerStartError(self._message("logged errors while starting"))
        return True

    def _write_config(self) -> None:
        self.data_dir.mkdir(exist_ok=True)
        certs = self.dir / "certs"
        certs.mkdir(exist_ok=True)
        modules = [*BASE_MODULES, *self.extra_modules]
        if self.tls:
            # Named after the host, as Prosody looks certificates up; kept across restarts
            # (and demo runs with --dir) so that clients that accepted it keep trusting it.
            self.certificate = SelfSignedCertificate.ensure(
                certs, self.domain, [self.domain, f"*.{self.domain}"])
            modules.append("tls")
        q = lua_string
        lines = [
            "-- written by transport.testing.servers.prosody",
            "run_as_root = true",  # CI runs as root; Prosody refuses uid 0 without this
            f"pidfile = {q(str(self.dir / 'prosody.pid'))}",
            f"data_path = {q(str(self.data_dir))}",
            f"certificates = {q(str(certs))}",
            # "debug" would be noisy; "info" shows connections, binds and auth failures.
            f"log = {{ info = {q(str(self.log_path))} }}",
            f"interfaces = {{ {q(self.host)} }}",
            f"c2s_ports = {{ {self.c2s_port} }}",
            f"component_ports = {{ {self.component_port} }}",
            f"component_interfaces = {{ {q(self.host)} }}",
            f"http_ports = {{ {self.http_port} }}",
            f"http_interfaces = {{ {q(self.host)} }}",
            # Every default listener we do not use must be emptied, or Prosody binds the
            # well-known ports (5223, 5281, 5269) and collides with other servers.
            "c2s_direct_tls_ports = { }",
            "legacy_ssl_ports = { }",
            "https_ports = { }",
            "s2s_ports = { }",
            'modules_disabled = { "s2s" }',
            f"modules_enabled = {_lua_list(modules)}",
            'authentication = "internal_hashed"',
            "allow_registration = true",
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            # Prosody's default (nagle = true) holds back small writes until the previous
            # one is acknowledged; the gateway acknowledges promptly, so it costs little,
            # but the tests run tuned as docs/admin.md suggests unless asked otherwise.
            *([] if self.nagle else ["network_settings = { nagle = false }"]),
            *self.extra_global,
            "",
            f"VirtualHost {q(self.domain)}",
            *(f"    {line}" for line in self.extra_vhost),
        ]
        for component, secret in self.components.items():
            lines += ["", f"Component {q(component)}", f"    component_secret = {q(secret)}"]
            lines += [f"    {line}" for line in self.extra_component.get(component, ())]
        if self.muc_domain:
            lines += ["", f'Component {q(self.muc_domain)} "muc"']
        if self.upload_domain:
            # Requests name the address in Host, not upload.DOMAIN: route them there.
            lines.insert(lines.index(f"VirtualHost {q(self.domain)}") - 1,
                         f"http_default_host = {q(self.upload_domain)}")
            lines += [
                "", f'Component {q(self.upload_domain)} "http_file_share"',
                # Clients reach it by address, whatever *.localhost resolves to here.
                f"    http_external_url = {q(f'http://{self.host}:{self.http_port}/')}",
                "    http_file_share_size_limit = 10 * 1024 * 1024",
            ]
        self.config_path.write_text("\n".join(lines) + "\n")
