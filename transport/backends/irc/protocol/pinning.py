"""Certificate pinning: a fingerprint a user trusts replaces the CA check for one server.

The pin is the SHA-256 (or, as biboumi stores it, SHA-1) digest of the server's DER
certificate. When a pin is set the certificate must match it, whether or not verification
is on; a matching pin also accepts a self-signed certificate.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_SEPARATORS = re.compile(r"[\s:]")
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class BadFingerprint(ValueError):
    """Text that is not a SHA-1 or SHA-256 fingerprint."""


def normalize_fingerprint(text: str) -> str:
    """``AA:BB:..`` or plain hex, any case -> lowercase hex without separators."""
    digits = _SEPARATORS.sub("", text).lower()
    if not _HEX.fullmatch(digits):
        raise BadFingerprint("expected a SHA-256 (or SHA-1) fingerprint in hex")
    return digits


def fingerprint_of(der: bytes, like: str) -> str:
    """The hex digest of ``der`` with the algorithm the pin ``like`` uses (by its length)."""
    algorithm = "sha1" if len(like) == 40 else "sha256"
    return hashlib.new(algorithm, der).hexdigest()


def pin_matches(der: bytes | None, pin: str) -> bool:
    """Whether the certificate ``der`` is the pinned one (constant-time comparison)."""
    if not der:
        return False
    try:
        wanted = normalize_fingerprint(pin)
    except BadFingerprint:
        return False
    return hmac.compare_digest(fingerprint_of(der, wanted), wanted)
