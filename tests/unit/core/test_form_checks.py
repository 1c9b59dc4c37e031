"""A submitted ad-hoc form is checked against the fields the gateway asked for."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0004 import Form

from transport.core.backend import FormField
from transport.xmpp.form_checks import check_submission

DECLARED = (
    FormField("jid", "User", "jid-single"),
    FormField("password", "Password", "text-private"),
    FormField("persistent", "Persistent", "boolean"),
    FormField("channels", "Channels", "text-multi"),
)


def submitted(*fields: tuple[str, str | None, list[str]]) -> Form:
    x = ET.Element("{jabber:x:data}x", {"type": "submit"})
    for var, ftype, values in fields:
        field = ET.SubElement(x, "{jabber:x:data}field", {"var": var})
        if ftype is not None:
            field.set("type", ftype)
        for value in values:
            ET.SubElement(field, "{jabber:x:data}value").text = value
    return Form(xml=x)


def test_a_submission_that_fits_the_form_passes() -> None:
    check_submission(submitted(
        ("jid", None, ["a@localhost"]),
        ("password", "text-single", ["s3cret"]),  # a close relative of text-private
        ("persistent", "boolean", ["true"]),
        ("channels", "text-multi", ["#a", "#b"]),
        ("unknown", "list-multi", ["x", "y"]),  # fields the form did not ask for are ignored
    ), DECLARED)


@pytest.mark.parametrize("field", [
    ("jid", "list-multi", ["a@localhost"]),
    ("jid", "bogus", ["a@localhost"]),
    ("jid", None, ["a@localhost", "b@localhost"]),
    ("jid", None, ["a@@b"]),
    ("persistent", None, ["maybe"]),
    ("channels", "boolean", ["1"]),
])
def test_a_submission_that_breaks_the_form_is_a_bad_request(
    field: tuple[str, str | None, list[str]],
) -> None:
    with pytest.raises(XMPPError) as raised:
        check_submission(submitted(field), DECLARED)
    assert raised.value.condition == "bad-request"
