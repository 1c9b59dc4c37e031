"""Launch throw-away ngIRCd / InspIRCd instances on free loopback ports (see TESTBED.md).

Each server runs in the foreground as our child with its config in a temporary directory and is
stopped by PID, never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NGIRCD = shutil.which("ngircd") or "/usr/sbin/ngircd"
INSPIRCD = shutil.which("inspircd") or "/usr/sbin/inspircd"
INSPIRCD_MODULES = "/usr/lib/inspircd/modules"


@dataclass
class RunningServer:
    name: str
    host: str
    port: int
    tls_port: int | None
    proc: subprocess.Popen[bytes]
    workdir: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.01)
    raise RuntimeError(f"port {port} never opened")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)


def make_cert(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for CN/SAN localhost + 127.0.0.1 (also usable as a CA file)."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    for p in (cert, key):
        p.chmod(0o644)
    return cert, key


@contextlib.contextmanager
def ngircd(
    workdir: Path, *, password: str | None = None, tls: bool = False, penalties: bool = False
) -> Iterator[RunningServer]:
    """ngIRCd with penalties off (unless asked), PAM/DNS/ident off, optional TLS and PASS."""
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    port = free_port()
    tls_port = free_port() if tls else None
    lines = [
        "[Global]",
        "Name = irc.test",
        "Info = test server",
        "Listen = 127.0.0.1",
        f"Ports = {port}",
        "MotdPhrase = hello",
    ]
    if password:
        lines.append(f"Password = {password}")
    lines += [
        "[Limits]",
        f"MaxPenaltyTime = {-1 if penalties else 0}",
        "MaxConnectionsIP = 0",
        "MaxNickLength = 30",
        "[Options]",
        "PAM = no",
        "DNS = no",
        "Ident = no",
    ]
    if tls:
        cert, key = make_cert(workdir)
        dh = workdir / "dh.pem"
        shutil.copy(_dh_params(), dh)
        dh.chmod(0o644)
        lines += [
            "[SSL]",
            f"CertFile = {cert}",
            f"KeyFile = {key}",
            f"DHFile = {dh}",
            f"Ports = {tls_port}",
        ]
    conf = workdir / "ngircd.conf"
    conf.write_text("\n".join(lines) + "\n")
    conf.chmod(0o644)
    proc = subprocess.Popen(
        [NGIRCD, "-n", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_port(port, proc)
        if tls_port:
            _wait_port(tls_port, proc)
        yield RunningServer("ngircd", "127.0.0.1", port, tls_port, proc, workdir)
    finally:
        _stop(proc)


_DH_CACHE = Path("/tmp/irc_protocol_tests_dh.pem")


def _dh_params() -> Path:
    """DH parameters are slow to make; generate once per machine with certtool's fast mode."""
    if not _DH_CACHE.exists():
        out = subprocess.run(
            ["certtool", "--get-dh-params", "--sec-param", "medium"],
            check=True,
            capture_output=True,
        ).stdout
        tmp = _DH_CACHE.with_suffix(f".{os.getpid()}")
        tmp.write_bytes(out)
        tmp.replace(_DH_CACHE)
    return _DH_CACHE


INSPIRCD_MODULE_LIST = (
    "cap",
    "ircv3",
    "ircv3_echomessage",
    "ircv3_servertime",
    "ircv3_msgid",
    "ircv3_ctctags",
    "ircv3_accounttag",
    "ircv3_capnotify",
    "ircv3_chghost",
    "namesx",
    "uhnames",
    "services_account",
)


@contextlib.contextmanager
def inspircd(workdir: Path) -> Iterator[RunningServer]:
    """InspIRCd 3 with the IRCv3 modules loaded and client throttling relaxed."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    modules = "\n".join(f'<module name="{m}">' for m in INSPIRCD_MODULE_LIST)
    conf = workdir / "inspircd.conf"
    motd = workdir / "motd.txt"
    motd.write_text("hello\n")
    conf.write_text(
        f"""
<server name="irc.inspircd.test" description="test" network="TestNet">
<admin name="a" nick="a" email="a@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect allow="*" timeout="60" threshold="1000000" pingfreq="120" hardsendq="1048576"
         softsendq="1048576" recvq="1048576" localmax="1000" globalmax="1000"
         resolvehostnames="no" useident="no" fakelag="yes" commandrate="100000000">
<files motd="{motd}">
<pid file="{workdir}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{workdir}/log.txt">
<options prefixquit="Quit: " syntaxhints="no" announcets="yes" hostintopic="yes">
<performance nouserdns="yes" clonesonconnect="no">
<security hidesplits="no" hideserver="" maxtargets="20">
<limits maxnick="30" maxchan="64" maxline="512">
<path moduledir="{INSPIRCD_MODULES}">
{modules}
"""
    )
    proc = subprocess.Popen(
        [INSPIRCD, "--nofork", "--runasroot", f"--config={conf}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    try:
        _wait_port(port, proc)
        yield RunningServer("inspircd", "127.0.0.1", port, None, proc, workdir)
    finally:
        _stop(proc)
