"""The log masker: what slixmpp, aiohttp and our own code would log, with secrets hidden."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from slixmpp import Iq
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0077 import Register
from slixmpp.stanza import Handshake
from slixmpp.xmlstream import register_stanza_plugin

from transport.cli import configured_secrets
from transport.log_redaction import SecretMasker
from transport.testing.gateway import ComponentSpec, build_settings

register_stanza_plugin(Iq, Register)
register_stanza_plugin(Register, Form)

TOKEN = "5e1f0c0ffee0ddba11ab5e11ca7500d5"


def masked(text: str, secrets: tuple[str, ...] = ()) -> str:
    return SecretMasker(secrets).mask(text)


def configure_form(ftype: str, *, typed: bool) -> Form:
    form = Form()
    form["type"] = ftype
    kind = "text-private" if typed else None
    form.add_field(var="nick", ftype="text-single" if typed else None, value="alice_")
    form.add_field(var="pass", ftype=kind, value="hunter2")
    form.add_field(var="sasl_password", ftype=kind, value="sesame")
    form.add_field(var="node_key", ftype=kind, value="opaque-value")
    return form


def test_private_fields_of_a_form_are_masked_and_the_rest_kept() -> None:
    line = f"RECV: {configure_form('form', typed=True)}"
    out = masked(line)
    assert "hunter2" not in out and "sesame" not in out and "opaque-value" not in out
    assert "alice_" in out and 'var="pass"' in out and out.count("****") == 3


def test_a_submitted_form_without_types_is_masked_by_field_name() -> None:
    out = masked(f"RECV: {configure_form('submit', typed=False)}")
    assert "hunter2" not in out and "sesame" not in out
    assert "alice_" in out
    assert "opaque-value" in out, "an ordinary name stays readable"


def test_private_field_names_once_offered_are_masked_in_the_submission() -> None:
    masker = SecretMasker()
    masker.mask(f"SEND: {configure_form('form', typed=True)}")
    assert "opaque-value" not in masker.mask(f"RECV: {configure_form('submit', typed=False)}")


def test_registration_password_is_masked() -> None:
    iq = Iq(stype="set")
    iq["register"]["username"] = "alice"
    iq["register"]["password"] = "p4ssw0rd"
    out = masked(f"RECV: {iq}")
    assert "p4ssw0rd" not in out and "<username>alice</username>" in out
    assert "<password>****</password>" in out


def test_sasl_and_handshake_payloads_are_masked() -> None:
    auth = ('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">'
            "AGFsaWNlAHNlc2FtZQ==</auth>")
    assert "AGFsaWNl" not in masked(f"SEND: {auth}")
    handshake = Handshake()
    handshake["value"] = "0123456789abcdef0123456789abcdef01234567"
    out = masked(f"SEND: {handshake}")
    assert "0123456789abcdef" not in out and "handshake" in out
    assert masked("RECV: <handshake />") == "RECV: <handshake />"


def test_authorization_headers_are_masked() -> None:
    for text in ("Authorization: Basic QUM6c2VjcmV0", "{'Authorization': 'Bearer abc.def'}",
                 "authorization=Digest abcdef"):
        out = masked(text)
        assert "QUM6" not in out and "abc.def" not in out and "abcdef" not in out
        assert "****" in out


def test_configured_secrets_are_masked_anywhere_also_xml_escaped() -> None:
    out = masked(f"a message quoting {TOKEN} twice: {TOKEN}", (TOKEN, "x"))
    assert out == "a message quoting **** twice: ****"
    assert masked("<body>a&amp;b&lt;c</body>", ("a&b<c",)) == "<body>****</body>"
    assert masked("x short", ("x",)) == "x short", "too short to mask without garbling"


def test_text_without_secrets_is_returned_unchanged() -> None:
    text = 'SEND: <message to="a@b"><body>hello</body></message>'
    assert masked(text, (TOKEN,)) is text


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretMasker([TOKEN]))
    log = logging.getLogger("test_log_redaction")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)


def test_the_filter_masks_arguments_and_tracebacks(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.debug("RECV: %s", configure_form("submit", typed=False))
    try:
        raise ValueError(f"token {TOKEN} refused")
    except ValueError:
        log.exception("request failed for %s", "alice")
    written = stream.getvalue()
    assert "hunter2" not in written and TOKEN not in written
    assert "request failed for alice" in written and "ValueError: token **** refused" in written


def test_the_run_command_masks_component_secrets_and_backend_secrets() -> None:
    sms = ComponentSpec("sms", "sms.example.org", "sms-component-secret", {
        "twilio": {"account_sid": "AC" + "0" * 32, "auth_token": TOKEN,
                   "numbers": ["+12125550100"]},
        "webhook": {"public_url": "https://gw.example.org"},
    })
    echo = ComponentSpec("echo", "echo.example.org", "echo-component-secret")
    settings = build_settings("127.0.0.1", 5347, Path("/nonexistent/db"), [sms, echo])
    assert configured_secrets(settings) == [
        "sms-component-secret", TOKEN, "echo-component-secret"]
