"""Twilio's REST error shapes and the codes the stand-in produces.

twilio-python only fills ``TwilioRestException.code`` from the *legacy* body
``{"code", "message", "more_info", "status"}`` (an RFC 9457 body becomes a different
exception class), so every 4xx/5xx here uses that shape.  Codes and texts follow the
public error pages at https://www.twilio.com/docs/api/errors/<code>; see the package
docstring for which ones are exact and which are best effort.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# Delivery-time error codes (status callbacks) and their public titles.
DELIVERY_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30034: "US A2P 10DLC - Message from an Unregistered Number",
}
DEFAULT_DELIVERY_ERROR = {"undelivered": 30003, "failed": 30008}


class TwilioApiError(Exception):
    """A REST failure rendered as Twilio's legacy JSON error body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON document Twilio returns for this error."""
        doc: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }
        if self.detail is not None:
            doc["detail"] = self.detail
        return doc

    def response(self) -> web.Response:
        """The aiohttp response carrying this error."""
        return web.json_response(self.body(), status=self.status, headers=self.headers)


def authenticate() -> TwilioApiError:
    """401/20003: missing, wrong, or foreign-account credentials."""
    return TwilioApiError(
        401,
        20003,
        "Authenticate",
        detail="Your AccountSid or AuthToken was incorrect.",
        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
    )


def not_found(path: str) -> TwilioApiError:
    """404/20404, with the path echoed like Twilio does."""
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")


def method_not_allowed(method: str) -> TwilioApiError:
    """405/20004 for verbs a resource does not support."""
    return TwilioApiError(405, 20004, f"Method not allowed: {method}")


def to_required() -> TwilioApiError:
    return TwilioApiError(400, 21604, "A 'To' phone number is required.")


def from_required() -> TwilioApiError:
    return TwilioApiError(400, 21603, "A 'From' phone number is required.")


def body_or_media_required() -> TwilioApiError:
    return TwilioApiError(400, 21619, "A text message body or media url must be specified.")


def body_too_long() -> TwilioApiError:
    return TwilioApiError(
        400, 21617, "The concatenated message body exceeds the 1600 character limit."
    )


def too_many_media(limit: int) -> TwilioApiError:
    return TwilioApiError(400, 21623, f"Number of media files exceeds allowed limit of {limit}.")


def invalid_media_url(url: str) -> TwilioApiError:
    return TwilioApiError(400, 21620, f"Invalid media URL(s): {url}")


def invalid_to(to: str) -> TwilioApiError:
    return TwilioApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def from_not_owned(from_: str) -> TwilioApiError:
    return TwilioApiError(
        400,
        21606,
        f"The From phone number {from_} is not a valid, SMS-capable inbound phone number "
        "or short code for your account.",
    )


def invalid_status_callback(url: str) -> TwilioApiError:
    return TwilioApiError(400, 21609, f"The StatusCallback URL {url} is not a valid URL.")


def invalid_messaging_service(sid: str) -> TwilioApiError:
    return TwilioApiError(400, 21705, f"The Messaging Service {sid} is invalid.")


def opted_out() -> TwilioApiError:
    return TwilioApiError(400, 21610, "Attempt to send to unsubscribed recipient")
