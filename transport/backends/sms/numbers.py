"""Phone numbers <-> contact JID localparts.

Three kinds of SMS address get a stable localpart each:

- a phone number: E.164, ``+12125550142`` (typed forms such as ``(212) 555-0142`` are read
  with ``default_region``);
- a short code: RFC 3966's local-number form with the country as context,
  ``12345;phone-context=+1`` (as the SGX gateways do, with a country code instead of their
  domain); Twilio gives short-code senders as bare digits;
- an alphanumeric sender ID (``MyBank``): lower-cased, XEP-0106-escaped, with the suffix
  ``;alphanumeric`` (``my\\20bank;alphanumeric``). Nobody can text it back.

Whether a number exists is Twilio's to say (error 21211); here a string is refused only
when it is not even a *possible* number.
"""

from __future__ import annotations

import functools
import re
from typing import Final, Literal
from urllib.parse import unquote

import phonenumbers
from phonenumbers import PhoneNumberFormat, ValidationResult

from transport.core.errors import AddressError
from transport.xmpp.escaping import escape_node, unescape_node

Kind = Literal["number", "short", "alpha"]

SHORT_CONTEXT: Final = ";phone-context=+"
ALPHA_SUFFIX: Final = ";alphanumeric"
_SHORT: Final = re.compile(r"(\d{3,8});phone-context=\+(\d{1,3})")
_DIALLED: Final = re.compile(r"\+?[0-9 ().\-]{1,40}")
_ALPHA_KEEP: Final = re.compile(r"[^A-Za-z0-9 .&'+_-]")
_MAX_ALPHA: Final = 32


def parse_e164(text: str) -> str | None:
    """``text`` as E.164 if it is a possible international number (with its ``+``)."""
    text = text.strip()
    if not text.startswith("+") or not _DIALLED.fullmatch(text):
        return None
    return _possible(text, None)


@functools.lru_cache(maxsize=4096)
def _possible(text: str, region: str | None) -> str | None:
    # Cached: every inbound text parses its To and From, every outbound one its contact,
    # and a gateway sees the same few thousand numbers again and again (phonenumbers'
    # parse was a tenth of the gateway's time per message in a profile). Pure function of
    # its arguments; the LRU bound keeps a flood of distinct numbers from growing it.
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return None
    return str(phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


def _country_code(region: str) -> int:
    return int(phonenumbers.country_code_for_region(region))


def kind_of(localpart: str) -> Kind:
    """The kind of a canonical localpart (as returned by ``Numbers.normalize``)."""
    if localpart.endswith(ALPHA_SUFFIX):
        return "alpha"
    return "short" if SHORT_CONTEXT in localpart else "number"


class Numbers:
    """Number rules for one gateway: ``region`` reads numbers typed without ``+``."""

    def __init__(self, region: str) -> None:
        self.region = region

    def normalize(self, text: str) -> str:
        """A typed number or contact localpart -> canonical localpart, or ``AddressError``."""
        plain = unescape_node(text).strip()
        if plain.lower().endswith(ALPHA_SUFFIX):
            name = plain[: -len(ALPHA_SUFFIX)]
            if not name.strip() or _ALPHA_KEEP.search(name) or len(name) > _MAX_ALPHA:
                raise AddressError(f"{text!r} is not an alphanumeric sender ID")
            return escape_node(name.strip().lower()) + ALPHA_SUFFIX
        short = _SHORT.fullmatch(plain)
        if short:
            digits, cc = short.groups()
            if phonenumbers.region_code_for_country_code(int(cc)) == "ZZ":
                raise AddressError(f"+{cc} is not a country calling code")
            return f"{digits}{SHORT_CONTEXT}{cc}"
        if not _DIALLED.fullmatch(plain):
            raise AddressError(f"{text!r} is not a phone number")
        e164 = _possible(plain, self.region)
        if e164 is not None:
            return e164
        digits = re.sub(r"\D", "", plain)
        if not plain.startswith("+") and 3 <= len(digits) <= 8 and self._short(digits):
            return f"{digits}{SHORT_CONTEXT}{_country_code(self.region)}"
        raise AddressError(f"{text!r} is not a possible phone number")

    def _short(self, digits: str) -> bool:
        try:
            parsed = phonenumbers.parse(digits, self.region)
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_possible_short_number_for_region(parsed, self.region))

    def from_sender(self, sender: str, our_number: str) -> str:
        """An inbound ``From`` -> localpart; never fails (every sender gets a JID)."""
        text = sender.strip()
        if text.startswith("+"):
            e164 = parse_e164(text)
            if e164 is not None:
                return e164
        elif text.isascii() and text.isdigit():
            region = self._region_of(our_number)
            if 3 <= len(text) <= 8:
                return f"{text}{SHORT_CONTEXT}{_country_code(region)}"
            e164 = _possible(text, region)
            if e164 is not None:
                return e164
        name = " ".join(_ALPHA_KEEP.sub("", text).split())[:_MAX_ALPHA].strip()
        return escape_node((name or "unknown").lower()) + ALPHA_SUFFIX

    def _region_of(self, e164: str) -> str:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        except phonenumbers.NumberParseException:
            return self.region
        return str(region) if region and region != "ZZ" else self.region

    def from_uri(self, uri: str) -> str:
        """An XEP-0033 ``sms:`` URI (RFC 5724, one recipient) -> canonical localpart."""
        scheme, colon, rest = uri.partition(":")
        if not colon or scheme.strip().lower() != "sms":
            raise AddressError(f"{uri} is not an sms: URI")
        address = unquote(rest.partition("?")[0]).strip()
        if not address or "," in address:
            raise AddressError(f"{uri} must name exactly one recipient")
        return self.normalize(address)

    @staticmethod
    def destination(localpart: str) -> str | None:
        """What Twilio's ``To`` takes for a canonical localpart; None when unreachable."""
        kind = kind_of(localpart)
        if kind == "alpha":
            return None
        return localpart.partition(";")[0] if kind == "short" else localpart

    @staticmethod
    def display_name(localpart: str) -> str:
        """How a contact is named in disco: ``+1 212-555-0142``, ``Short code 12345``..."""
        kind = kind_of(localpart)
        if kind == "alpha":
            return unescape_node(localpart[: -len(ALPHA_SUFFIX)])
        if kind == "short":
            return f"Short code {localpart.partition(';')[0]}"
        try:
            parsed = phonenumbers.parse(localpart, None)
        except phonenumbers.NumberParseException:
            return localpart
        return str(phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL))
