"""The object every route handler reaches through ``request.app[CONTEXT]``."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .progression import StatusProgression
from .state import StandInState
from .webhooks import WebhookDispatcher


@dataclass
class StandInContext:
    """Shared state plus the background machinery of one running stand-in."""

    state: StandInState
    webhooks: WebhookDispatcher
    progression: StatusProgression
    base_url: str = ""
    media_redirect: bool = False
    max_media: int = 10
    cdn: dict[str, str] = field(default_factory=dict)


CONTEXT = web.AppKey("twilio_standin", StandInContext)
