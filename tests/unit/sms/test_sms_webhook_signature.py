"""The webhook's signature check decides exactly as twilio-python's RequestValidator."""

import itertools

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from transport.backends.sms.settings import WebhookSettings
from transport.backends.sms.webhook import WebhookServer, signed_urls

TOKEN = "5e1f0c0ffee0ddba11ab5e11ca7500d5"


async def _nothing(*_args):
    raise AssertionError("not called")


def server(public_url):
    return WebhookServer(WebhookSettings(public_url), TOKEN, "AC" + "0" * 32,
                         _nothing, _nothing, _nothing)


FORMS = [
    MultiDict(),
    MultiDict([("MessageSid", "SM" + "a" * 32), ("Body", "héllo 👋"), ("From", "+12125550142")]),
    MultiDict([("MediaUrl", "https://b.example/2"), ("MediaUrl", "https://a.example/1"),
               ("NumMedia", "2")]),
]
PUBLIC = ["https://gw.example.org", "https://gw.example.org:443", "http://gw.example.org",
          "https://gw.example.org:8443", "http://127.0.0.1:8080"]
PATHS = ["/twilio/sms", "/twilio/status?x=1&y=%20z"]


@pytest.mark.parametrize(("public", "path"), list(itertools.product(PUBLIC, PATHS)))
def test_every_decision_matches_request_validator(public, path):
    gateway = server(public)
    validator = RequestValidator(TOKEN)
    url = public + path
    for form in FORMS:
        candidates = [validator.compute_signature(u, form) for u in signed_urls(url)]
        candidates += [
            validator.compute_signature(url.replace("gw.example.org", "other.example"), form),
            RequestValidator("x" * 32).compute_signature(url, form),
            candidates[0][:-2] + "==", "", "not base64 at all ✗",
        ]
        for signature in candidates:
            assert gateway.signature_valid(url, form, signature) == \
                validator.validate(url, form, signature), (url, dict(form), signature)


def test_the_usual_url_form_is_tried_first():
    assert signed_urls("https://gw.example.org/twilio/sms") == (
        "https://gw.example.org/twilio/sms", "https://gw.example.org:443/twilio/sms")
    assert signed_urls("https://gw.example.org:8443/twilio/sms") == (
        "https://gw.example.org/twilio/sms", "https://gw.example.org:8443/twilio/sms")
