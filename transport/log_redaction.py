"""Masks secrets in log records before any handler writes them.

slixmpp logs every stanza at DEBUG (``SEND: ...``/``RECV: ...``): a submitted configure form
carries IRC passwords, a XEP-0077 registration its ``<password>``, the component handshake
its digest. Admins turn DEBUG on to report bugs and paste the output, so a secret must not
reach a log at any level. The filter sits on our handler, so it sees every logger's records,
but only the ones that are actually emitted: a record below the level is never formatted.

Each rule starts with a plain substring test, so a record without anything secret-looking
costs a few ``in`` checks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final
from xml.sax.saxutils import escape

MASK: Final = "****"
MIN_SECRET_LENGTH: Final = 4  # shorter "secrets" would garble logs more than they protect
_MAX_LEARNED_VARS: Final = 256

# Data-form field names that hold a secret, whatever the field's type.
_SECRET_VAR: Final = re.compile(r"pass|secret|token|sasl|credential|api_?key", re.IGNORECASE)
_FIELD: Final = re.compile(r"<field\b([^>]*?)(?:/>|>(.*?)</field>)", re.DOTALL)
_ATTRIBUTE: Final = re.compile(r"""\b(var|type)\s*=\s*(["'])(.*?)\2""")
_VALUE: Final = re.compile(r"(<value\b[^>]*>).*?(</value>)", re.DOTALL)
# Elements whose whole text is a secret: XEP-0077/0078 passwords and digests, SASL
# payloads (PLAIN carries the password), the XEP-0114 handshake digest.
_SECRET_ELEMENT: Final = re.compile(
    r"(<(password|digest|handshake|auth|response)\b[^>]*?(?<!/)>)(.*?)(</\2>)", re.DOTALL
)
_SECRET_ELEMENT_HINTS: Final = ("password>", "digest>", "handshake", "xmpp-sasl")
_AUTHORIZATION: Final = re.compile(
    r"""(authorization['"]?\s*[:=]\s*['"]?)(?:(?:basic|bearer|digest)\s+)?[^\s'",}]+""",
    re.IGNORECASE,
)
_FORMATTER: Final = logging.Formatter()


class SecretMasker(logging.Filter):
    """Rewrites emitted records so that no known secret or secret-looking payload remains.

    ``secrets`` are exact strings from the settings (component secrets, API tokens); they
    are replaced wherever they appear, also in their XML-escaped form.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        exact = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        exact |= {escape(s, {'"': "&quot;", "'": "&apos;"}) for s in exact}
        self._secrets = sorted(exact, key=len, reverse=True)
        self._private_vars: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # Keep the formatted text so the handler does not format (serialise a stanza) again.
        record.msg = self.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``****`` (the same object if none)."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if "<" in text:
            text = self._mask_xml(text)
        if "uthorization" in text or "UTHORIZATION" in text:
            text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
        return text

    def _mask_xml(self, text: str) -> str:
        if "<field" in text:
            text = _FIELD.sub(self._mask_field, text)
        if any(hint in text for hint in _SECRET_ELEMENT_HINTS):
            text = _SECRET_ELEMENT.sub(_mask_element, text)
        return text

    def _mask_field(self, match: re.Match[str]) -> str:
        body = match.group(2)
        attributes = {m.group(1): m.group(3) for m in _ATTRIBUTE.finditer(match.group(1))}
        var = attributes.get("var", "")
        private = attributes.get("type") == "text-private"
        if private and var and len(self._private_vars) < _MAX_LEARNED_VARS:
            # A submitted form need not repeat the type: remember the names we offered.
            self._private_vars.add(var)
        if not body or not (private or var in self._private_vars or _SECRET_VAR.search(var)):
            return match.group(0)
        whole, start = match.group(0), match.start(2) - match.start(0)
        masked = _VALUE.sub(rf"\1{MASK}\2", body)
        return whole[:start] + masked + whole[start + len(body):]


def _mask_element(match: re.Match[str]) -> str:
    opening, name, body, closing = match.groups()
    if name in ("auth", "response") and "xmpp-sasl" not in opening:
        return match.group(0)
    return f"{opening}{MASK if body else ''}{closing}"
