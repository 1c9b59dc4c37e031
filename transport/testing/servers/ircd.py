"""Real IRC servers for tests: ngIRCd 26 (the main one) and InspIRCd 3 (full IRCv3)."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import ssl
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from transport.testing.servers.ports import free_port
from transport.testing.servers.process import ServerProcess, ServerStartError

OPER_NAME = "admin"
OPER_PASSWORD = "admin-secret"


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        raise ServerStartError(f"{binary} is not installed; run scripts/bootstrap")


_CERT_TEMPLATE = """\
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
expiration_days = 2
tls_www_server
signing_key
encryption_key
"""


def self_signed_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed certificate (CN and SAN localhost, 127.0.0.1), its key and DH
    parameters, made with GnuTLS's certtool in milliseconds (ECDSA, RFC 7919 groups)."""
    _require("certtool")
    cert, key, dh = directory / "cert.pem", directory / "key.pem", directory / "dh.pem"
    template = directory / "cert.tmpl"
    template.write_text(_CERT_TEMPLATE)
    steps = [
        ["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", str(key)],
        ["certtool", "--generate-self-signed", "--load-privkey", str(key),
         "--template", str(template), "--outfile", str(cert)],
    ]
    for argv in steps:
        subprocess.run(argv, check=True, capture_output=True)
    dh.write_bytes(subprocess.run(["certtool", "--get-dh-params", "--sec-param", "medium"],
                                  check=True, capture_output=True).stdout)
    for path in (cert, key, dh):
        path.chmod(0o644)  # ngIRCd reads them as "nobody"
    return cert, key, dh


class NgircdServer(ServerProcess):
    """ngIRCd on one loopback port, without the limits that throttle or refuse test clients.

    ``max_penalty_time=0`` turns flood penalties off (ngIRCd otherwise allows ~3 lines/s per
    client: a 100-line burst took 31 s); pass -1 for ngIRCd's default behaviour. An IRC
    operator ``admin``/``admin-secret`` exists for tests that KILL or KICK.
    ``extra`` maps section names (``"Options"``) to extra ``key: value`` settings.
    With ``tls`` it also serves TLS on ``tls_port`` with a fresh self-signed certificate
    (``cert_path``; ``cert_sha256`` is its fingerprint, lowercase hex).
    """

    kind = "ngircd"

    def __init__(
        self,
        *,
        name: str = "irc.ngircd.test",
        network: str = "TestNet",
        max_penalty_time: int = 0,
        max_nick_length: int = 30,
        extra: Mapping[str, Mapping[str, str]] | None = None,
        tls: bool = False,
        base_dir: Path | None = None,
        keep_dir: bool | None = None,
    ) -> None:
        _require("ngircd")
        super().__init__(base_dir=base_dir, keep_dir=keep_dir)
        self.name = name
        self.network = network
        self.max_penalty_time = max_penalty_time
        self.max_nick_length = max_nick_length
        self.extra = {k: dict(v) for k, v in (extra or {}).items()}
        self.oper_name = OPER_NAME
        self.oper_password = OPER_PASSWORD
        self.config_path = self.dir / "ngircd.conf"
        self.port = 0
        self.tls = tls
        self.tls_port = 0
        self.cert_path = self.dir / "cert.pem"
        # ngIRCd drops root privileges to "nobody", which must still read the config.
        self.dir.chmod(0o755)

    @property
    def cert_sha256(self) -> str:
        der = ssl.PEM_cert_to_DER_cert(self.cert_path.read_text())
        return hashlib.sha256(der).hexdigest()

    def _assign_ports(self) -> None:
        self.port = free_port()
        self.tls_port = free_port() if self.tls else 0

    def _ready_ports(self) -> Sequence[int]:
        return (self.port, self.tls_port) if self.tls else (self.port,)

    def _command(self) -> list[str]:
        # -n: stay in the foreground; no PidFile (nobody cannot write it in our directory).
        return ["ngircd", "-n", "-f", str(self.config_path)]

    def _launcher(self) -> list[str]:
        # As root ngIRCd switches to "nobody" itself, and the kernel clears the parent-death
        # signal on that credential change. Starting it as nobody already keeps the signal.
        launcher = super()._launcher()
        if launcher and os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            launcher[1:1] = [f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}"]
            launcher.insert(1, "--clear-groups")
        return launcher

    def _write_config(self) -> None:
        motd = self.dir / "motd.txt"
        motd.write_text("test server\n")
        sections: dict[str, dict[str, str]] = {
            "Global": {
                "Name": self.name,
                "Info": "xmpp-transport test server",
                "Network": self.network,
                "Listen": self.host,
                "Ports": str(self.port),
                "MotdFile": str(motd),
                "AdminInfo1": "test",
                "AdminInfo2": "loopback",
                "AdminEMail": "root@localhost",
            },
            "Limits": {
                # Every test client comes from 127.0.0.1.
                "MaxConnectionsIP": "0",
                "MaxJoins": "0",
                "MaxNickLength": str(self.max_nick_length),
            },
            "Options": {
                # Debian's default PAM = yes makes every client authenticate.
                "PAM": "no",
                "DNS": "no",
                "Ident": "no",
                "ConnectIPv6": "no",
            },
            "Operator": {"Name": self.oper_name, "Password": self.oper_password},
        }
        if self.max_penalty_time >= 0:
            sections["Limits"]["MaxPenaltyTime"] = str(self.max_penalty_time)
        if self.tls:
            if not self.cert_path.exists():  # a restart keeps the certificate
                self_signed_certificate(self.dir)
            sections["SSL"] = {"CertFile": str(self.cert_path),
                               "KeyFile": str(self.dir / "key.pem"),
                               "DHFile": str(self.dir / "dh.pem"),
                               "Ports": str(self.tls_port)}
        for section, settings in self.extra.items():
            sections.setdefault(section, {}).update(settings)
        text = "".join(
            f"[{section}]\n" + "".join(f"\t{k} = {v}\n" for k, v in settings.items())
            for section, settings in sections.items()
        )
        self.config_path.write_text(text)
        for path in (self.config_path, motd):
            path.chmod(0o644)


#: IRCv3 modules (InspIRCd 3 names). away-notify, account-notify and extended-join come
#: with "ircv3"; there is no separate ircv3_awaynotify module in v3. "sasl" is left out: it
#: refuses to load without a services server to relay to.
IRCV3_MODULES: tuple[str, ...] = (
    "cap",
    "ircv3",
    "ircv3_capnotify",
    "ircv3_echomessage",
    "ircv3_servertime",
    "ircv3_accounttag",
    "ircv3_chghost",
    "ircv3_msgid",
    "ircv3_ctctags",
    "ircv3_batch",
    "ircv3_labeledresponse",
    "ircv3_invitenotify",
    "namesx",
    "uhnames",
)


class InspircdServer(ServerProcess):
    """InspIRCd 3 with the IRCv3 capabilities (server-time, echo-message, message-tags...).

    By default no flood protection applies to test clients; ``flood_limits=True`` restores
    InspIRCd's defaults (threshold 10, 1 command/s, fakelag) for pacing tests. Note that
    InspIRCd completes a client registration only on its once-per-second timer, so every
    NICK/USER takes up to ~1 s before 001 arrives.
    """

    kind = "inspircd"

    def __init__(
        self,
        *,
        name: str = "irc.inspircd.test",
        network: str = "TestNet",
        modules: Sequence[str] = IRCV3_MODULES,
        flood_limits: bool = False,
        extra_config: Sequence[str] = (),
        base_dir: Path | None = None,
        keep_dir: bool | None = None,
    ) -> None:
        _require("inspircd")
        super().__init__(base_dir=base_dir, keep_dir=keep_dir)
        self.name = name
        self.network = network
        self.modules = tuple(modules)
        self.flood_limits = flood_limits
        self.extra_config = tuple(extra_config)
        self.oper_name = OPER_NAME
        self.oper_password = OPER_PASSWORD
        self.config_path = self.dir / "inspircd.conf"
        self.log_path = self.dir / "inspircd.log"
        self.port = 0

    def _assign_ports(self) -> None:
        self.port = free_port()

    def _ready_ports(self) -> Sequence[int]:
        return (self.port,)

    def _command(self) -> list[str]:
        argv = ["inspircd", "--config", str(self.config_path), "--nofork", "--nopid"]
        if os.geteuid() == 0:
            argv.append("--runasroot")  # it refuses uid 0 otherwise
        return argv

    def _log_paths(self) -> list[Path]:
        return [self.log_path, self.output_path]

    def _write_config(self) -> None:
        motd = self.dir / "motd.txt"
        motd.write_text("test server\n")
        if self.flood_limits:
            flood = 'threshold="10" commandrate="1000" fakelag="yes"'
        else:
            # threshold is multiplied by 1000 in a 32-bit unsigned int: keep it below ~4e6.
            # commandrate is the penalty drained per second.
            flood = 'threshold="1000000" commandrate="1000000000" fakelag="no"'
        lines = [
            f'<server name="{self.name}" description="xmpp-transport test" '
            f'network="{self.network}">',
            '<admin name="test" nick="test" email="root@localhost">',
            f'<bind address="{self.host}" port="{self.port}" type="clients">',
            f'<connect name="main" allow="*" timeout="60" pingfreq="120" {flood}'
            ' hardsendq="16M" softsendq="16M" recvq="1M" localmax="100000"'
            ' globalmax="100000" maxchans="1000" limit="100000" resolvehostnames="no"'
            ' useident="no">',
            '<channels users="1000" opers="1000">',
            f'<files motd="{motd}">',
            '<dns server="127.0.0.1" timeout="1">',
            # netbuffersize caps at 65534 (65536 silently falls back to 10240). With 10240 a
            # burst of more than ~20 KB from one client stalls 1 s per further 10 KB.
            '<performance netbuffersize="65534" somaxconn="1024" softlimit="10000"'
            ' clonesonconnect="no" quietbursts="yes">',
            '<options prefixquit="Quit: " syntaxhints="no" announcets="yes">',
            '<security hideserver="" userstats="Pu" announceinvites="dynamic">',
            f'<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"'
            f' target="{self.log_path}">',
            '<class name="Everything" commands="*" privs="*" usermodes="*" chanmodes="*"'
            ' snomasks="*">',
            '<type name="Admin" classes="Everything">',
            f'<oper name="{self.oper_name}" password="{self.oper_password}" host="*@*"'
            ' type="Admin">',
            *(f'<module name="{module}">' for module in self.modules),
            *self.extra_config,
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
