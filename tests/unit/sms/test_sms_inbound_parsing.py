"""Reading Twilio's inbound webhook form, and keeping the XMPP stream well-formed."""

import pytest
from multidict import MultiDict

from transport.backends.sms.inbound import BadWebhook, parse_inbound, xml_safe

SID = "SM" + "ab" * 16


def form(**fields):
    base = {"MessageSid": SID, "From": "+12125550142", "To": "+12125550100", "Body": "hi",
            "NumMedia": "0"}
    base.update(fields)
    return MultiDict({k: v for k, v in base.items() if v is not None})


def test_a_plain_text():
    text = parse_inbound(form())
    assert (text.message_sid, text.from_, text.to, text.body, text.media) == (
        SID, "+12125550142", "+12125550100", "hi", ())


def test_media_in_order_with_types():
    text = parse_inbound(form(NumMedia="2", MediaUrl0="https://a/0", MediaContentType0="image/png",
                              MediaUrl1="https://a/1", OptOutType="STOP"))
    assert text.media == (("https://a/0", "image/png"), ("https://a/1", ""))
    assert text.opt_out == "STOP"


def test_body_may_be_absent():
    assert parse_inbound(form(Body=None)).body == ""
    assert parse_inbound(form(NumMedia=None)).media == ()


@pytest.mark.parametrize("fields", [
    {"MessageSid": None}, {"MessageSid": "SMxyz"}, {"MessageSid": "sm" + "ab" * 16},
    {"From": ""}, {"To": None}, {"NumMedia": "-1"}, {"NumMedia": "\u0661"}, {"NumMedia": "11"},
    {"NumMedia": "1"},
])
def test_incomplete_forms_are_refused(fields):
    with pytest.raises(BadWebhook):
        parse_inbound(form(**fields))


def test_characters_xml_cannot_carry_are_replaced():
    assert xml_safe("a\x00b\x07c\tok\n😀\ufffe") == "a\ufffdb\ufffdc\tok\n😀\ufffd"


@pytest.mark.parametrize("url", ["http://[::1", "ftp://api.twilio.com/x", "not a url",
                                 "https://api.twilio.com:99999/x", "https:///nohost"])
def test_a_media_url_that_is_no_http_url_is_a_bad_webhook(url):
    form = MultiDict({"MessageSid": "SM" + "a" * 32, "From": "+12125550142",
                      "To": "+12125550100", "NumMedia": "1", "MediaUrl0": url})
    with pytest.raises(BadWebhook, match="MediaUrl0 is not an http"):
        parse_inbound(form)
