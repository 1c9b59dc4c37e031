"""Certificate pins: their forms, and their enforcement on real TLS sockets (ngIRCd with a
self-signed certificate, and a bare TLS listener that records what a client writes)."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transport.backends.irc.protocol import ConnectionOptions, IrcConnection, IrcConnectionError
from transport.backends.irc.protocol.pinning import (
    BadFingerprint,
    normalize_fingerprint,
    pin_matches,
)
from transport.testing.servers.ircd import self_signed_certificate

pytestmark = pytest.mark.timeout(30)
FAST = ConnectionOptions(rate=0, welcome_grace=0.3, connect_timeout=5, register_timeout=5)
DER = b"certificate bytes"
SHA256 = hashlib.sha256(DER).hexdigest()
SHA1 = hashlib.sha1(DER).hexdigest()


def colons(digest: str) -> str:
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def test_pins_are_read_in_biboumi_forms_and_compared_by_length() -> None:
    assert normalize_fingerprint(colons(SHA256)) == SHA256
    assert normalize_fingerprint(f" {SHA256.upper()} ") == SHA256
    assert normalize_fingerprint(colons(SHA1)) == SHA1
    for bad in ("", "zz" * 32, SHA256[:-2], SHA256 + "00", "sha256:" + SHA256):
        with pytest.raises(BadFingerprint):
            normalize_fingerprint(bad)
    assert pin_matches(DER, colons(SHA256)) and pin_matches(DER, SHA1.upper())
    assert not pin_matches(DER, "00" * 32) and not pin_matches(DER, SHA1[:-1] + "0")
    assert not pin_matches(None, SHA256) and not pin_matches(b"", SHA256)
    assert not pin_matches(DER, "not a pin")


async def test_a_pinned_self_signed_certificate_is_accepted_on_a_vetted_address(
        tls_ircd, closing):
    conn = IrcConnection(None, FAST)
    closing(conn)
    # "irc.invalid" never resolves: the socket goes to the address given, no lookup.
    registered = await conn.connect("irc.invalid", tls_ircd.tls_port, "pinned", tls=True,
                                    address="127.0.0.1", fingerprint=colons(tls_ircd.cert_sha256))
    assert registered.nick == "pinned"


async def test_a_pin_mismatch_is_refused_with_or_without_verification(tls_ircd, closing):
    for verify in (False, True):
        conn = IrcConnection(None, FAST)
        closing(conn)
        with pytest.raises(IrcConnectionError, match="fingerprint mismatch") as err:
            await conn.connect("localhost", tls_ircd.tls_port, "mismatch", tls=True,
                               verify_cert=verify, fingerprint="ab" * 32)
        assert tls_ircd.cert_sha256 in str(err.value)


class RecordingTlsServer:
    """A TLS listener that keeps every byte a client writes to it."""

    def __init__(self, directory: Path) -> None:
        cert, key, _ = self_signed_certificate(directory)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        der = ssl.PEM_cert_to_DER_cert(cert.read_text())
        self.sha256 = hashlib.sha256(der).hexdigest()
        self.received = bytearray()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0,
                                                  ssl=self.context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(4096):
                self.received += chunk
        except (ConnectionError, ssl.SSLError):
            pass
        writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def recording(tmp_path: Path) -> AsyncIterator[RecordingTlsServer]:
    server = RecordingTlsServer(tmp_path)
    await server.start()
    yield server
    await server.close()


async def test_nothing_is_written_to_a_server_whose_certificate_is_not_the_pinned_one(
        recording, closing):
    conn = IrcConnection(None, FAST)
    closing(conn)
    with pytest.raises(IrcConnectionError, match="fingerprint mismatch"):
        await conn.connect("127.0.0.1", recording.port, "nick", tls=True, verify_cert=False,
                           password="server-secret", fingerprint="cd" * 32)
    await asyncio.sleep(0.2)
    assert bytes(recording.received) == b""
    # The same client with the right pin does talk to it (the listener would have seen it).
    right = IrcConnection(None, ConnectionOptions(register_timeout=0.5))
    closing(right)
    with pytest.raises(IrcConnectionError):
        await right.connect("127.0.0.1", recording.port, "nick", tls=True,
                            password="server-secret", fingerprint=recording.sha256)
    assert b"PASS server-secret" in recording.received
