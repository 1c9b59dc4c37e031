"""JSON renderings of v2010 resources, field for field as Twilio returns them.

Shapes follow the Message, Media and IncomingPhoneNumber resource docs and the v2010
OpenAPI description (``twilio_api_v2010.json``): dates are RFC 2822 in GMT, counts
(``num_media``, ``num_segments``) are strings, URIs are relative to the API host.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from .state import API_VERSION, Media, Message, PhoneNumber


def rfc2822(when: datetime | None) -> str | None:
    """``Thu, 24 Aug 2023 05:01:45 +0000`` (what twilio-python's deserializer reads)."""
    if when is None:
        return None
    return _rfc2822(when.replace(microsecond=0), when.utcoffset())


@functools.lru_cache(maxsize=32)
def _rfc2822(when: datetime, _offset: timedelta | None) -> str:
    # Every resource carries two or three dates, mostly of the current second, and
    # format_datetime was a fifth of a create's cost. The offset is part of the key because
    # datetimes in different zones compare (and hash) equal when they are the same instant.
    return format_datetime(when)


def account_uri(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def message_uri(msg: Message) -> str:
    return f"{account_uri(msg.account_sid)}/Messages/{msg.sid}"


def media_uri(media: Media) -> str:
    """The media resource without extension (GET there returns the bytes)."""
    return f"{account_uri(media.account_sid)}/Messages/{media.message_sid}/Media/{media.sid}"


def message_json(msg: Message) -> dict[str, Any]:
    """The Message resource."""
    return {
        "account_sid": msg.account_sid,
        "api_version": API_VERSION,
        "body": msg.body,
        "date_created": rfc2822(msg.date_created),
        "date_sent": rfc2822(msg.date_sent),
        "date_updated": rfc2822(msg.date_updated),
        "direction": msg.direction,
        "error_code": msg.error_code,
        "error_message": msg.error_message,
        "from": msg.from_,
        "messaging_service_sid": msg.messaging_service_sid,
        "num_media": str(msg.num_media),
        "num_segments": str(msg.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": msg.sid,
        "status": msg.status,
        "subresource_uris": {"media": f"{message_uri(msg)}/Media.json"},
        "to": msg.to,
        "uri": f"{message_uri(msg)}.json",
    }


def media_json(media: Media) -> dict[str, Any]:
    """The Media resource metadata (``.../Media/ME....json``)."""
    return {
        "account_sid": media.account_sid,
        "content_type": media.content_type,
        "date_created": rfc2822(media.date_created),
        "date_updated": rfc2822(media.date_created),
        "parent_sid": media.message_sid,
        "sid": media.sid,
        "uri": f"{media_uri(media)}.json",
    }


def number_json(num: PhoneNumber) -> dict[str, Any]:
    """The IncomingPhoneNumber resource (a local, SMS/MMS/voice-capable number)."""
    uri = f"{account_uri(num.account_sid)}/IncomingPhoneNumbers/{num.sid}"
    return {
        "account_sid": num.account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": rfc2822(num.date_created),
        "date_updated": rfc2822(num.date_updated),
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Active",
        "friendly_name": num.friendly_name,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": num.phone_number,
        "sid": num.sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": num.sms_method,
        "sms_url": num.sms_url,
        "status": "in-use",
        "status_callback": num.status_callback,
        "status_callback_method": "POST",
        "subresource_uris": {"assigned_add_ons": f"{uri}/AssignedAddOns.json"},
        "trunk_sid": None,
        "type": "local",
        "uri": f"{uri}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }


def page_json(
    key: str,
    records: Sequence[dict[str, Any]],
    *,
    path: str,
    filters: Sequence[tuple[str, str]],
    page: int,
    page_size: int,
    has_next: bool,
) -> dict[str, Any]:
    """Twilio's v2010 paging envelope around one page of ``records``.

    twilio-python finds the records as the single key that is not a paging key, and
    follows ``next_page_uri`` (relative) until it is null.
    """

    def uri(page_no: int) -> str:
        query = [*filters, ("PageSize", str(page_size)), ("Page", str(page_no))]
        return f"{path}?{urlencode(query)}"

    start = page * page_size
    return {
        key: list(records),
        "end": start + max(len(records) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if has_next else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """(page, page_size) from ``Page``/``PageSize``: 50 by default, 1000 at most."""
    try:
        size = min(max(int(query.get("PageSize", "50")), 1), 1000)
        page = max(int(query.get("Page", "0")), 0)
    except ValueError:
        return 0, 50
    return page, size
