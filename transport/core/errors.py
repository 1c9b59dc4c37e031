"""Errors a backend raises to tell the core what to answer on the XMPP side.

Each carries an RFC 6120 stanza error condition, so the core can turn it into an error
stanza without knowing anything about the legacy network.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class: an XMPP stanza error with a condition, a type and a human text."""

    condition: str = "undefined-condition"
    etype: str = "cancel"

    def __init__(
        self,
        text: str,
        condition: str | None = None,
        etype: str | None = None,
        legacy_code: str | None = None,
    ) -> None:
        super().__init__(text)
        self.text = text
        if condition is not None:
            self.condition = condition
        if etype is not None:
            self.etype = etype
        self.legacy_code = legacy_code


class AddressError(GatewayError):
    """A contact address (JID localpart/resource) the backend cannot read."""

    condition = "jid-malformed"
    etype = "modify"


class RegistrationRefused(GatewayError):
    """XEP-0077 registration data the backend will not accept."""

    condition = "not-acceptable"
    etype = "modify"


class DeliveryRefused(GatewayError):
    """The legacy network refused a message for good; the user gets an error stanza."""


class TemporaryFailure(Exception):
    """Sending failed before anything reached the legacy network; the core retries later.

    ``retry_after`` is the backend's hint in seconds; the core applies its own capped
    exponential backoff when it is ``None``.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class StartupError(Exception):
    """The gateway cannot start for a reason the admin must fix (a busy port, a database
    from a newer version, a corrupt file): ``run`` prints one line, ``key: cause``, and
    exits 1, without a traceback. ``key`` is the dotted config key to look at."""

    def __init__(self, key: str, cause: str) -> None:
        super().__init__(f"{key}: {cause}")
        self.key = key
        self.cause = cause
