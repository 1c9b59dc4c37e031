"""SMS/MMS through Twilio: phone numbers as XMPP contacts (see docs/sms.md)."""

from transport.backends.sms.backend import SmsBackend

__all__ = ["SmsBackend"]
