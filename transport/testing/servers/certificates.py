"""Self-signed certificates for test and demo servers, made with the openssl command."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transport.testing.servers.process import ServerStartError


@dataclass(frozen=True, slots=True)
class SelfSignedCertificate:
    """A PEM certificate and key pair, and the certificate's SHA-256 fingerprint."""

    cert: Path
    key: Path
    fingerprint: str  # "AB:CD:..." as clients show it

    @classmethod
    def ensure(cls, directory: Path, name: str, hosts: Sequence[str]) -> SelfSignedCertificate:
        """``directory/name.crt`` and ``.key`` for ``hosts``; made once, then reused."""
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        if not (cert.exists() and key.exists()):
            _make(cert, key, name, hosts)
        return cls(cert, key, _fingerprint(cert))


def _openssl(*args: str) -> str:
    if shutil.which("openssl") is None:
        raise ServerStartError("openssl is not installed; run scripts/bootstrap")
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL, timeout=60)
    if result.returncode != 0:
        raise ServerStartError(f"openssl {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def _make(cert: Path, key: Path, name: str, hosts: Sequence[str]) -> None:
    names = ",".join(f"DNS:{host}" for host in hosts)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "3650", "-subj", f"/CN={name}", "-addext",
             f"subjectAltName={names}", "-keyout", str(key), "-out", str(cert))
    key.chmod(0o600)


def _fingerprint(cert: Path) -> str:
    out = _openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", str(cert))
    return out.strip().partition("=")[2]
