"""The interface between the core and a legacy-network backend.

A backend is found through the ``transport.backends`` entry-point group and serves one
component domain. The core owns the XMPP stream, the store, registration, subscriptions and
both delivery queues; the backend only answers the questions below and moves messages to
and from its network. Everything here is typed without ``Any`` and imports no third-party
package, so a backend checks under ``mypy --strict`` with nothing but this package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar, cast

# The command and form types are part of the backend API: importable from here too.
from transport.core.commands import Command as Command
from transport.core.commands import CommandHandler as CommandHandler
from transport.core.commands import CommandRequest as CommandRequest
from transport.core.commands import CommandResult as CommandResult
from transport.core.commands import FormField as FormField
from transport.core.commands import FormValue as FormValue
from transport.core.commands import FormValues as FormValues
from transport.core.commands import gateway_only as gateway_only
from transport.core.context import BackendContext as BackendContext
from transport.core.context import Show as Show
from transport.core.errors import AddressError
from transport.core.events import (
    OutgoingMessage,
    Registration,
    SendOutcome,
)
from transport.core.room_hooks import Rooms

# The settings helper and the storage types are part of the backend API: importable from
# here too.
from transport.core.settings import SettingsError as SettingsError
from transport.core.settings import parse_settings as parse_settings
from transport.core.settings import setting as setting
from transport.core.settings import settings_table as settings_table
from transport.core.storage import BackendStorage as BackendStorage
from transport.core.storage import ForeignTable as ForeignTable
from transport.core.storage import SqlParams as SqlParams
from transport.core.storage import SqlValue as SqlValue
from transport.core.storage import Transaction as Transaction

#: The type of a backend's parsed settings (``Backend.parse_settings``'s result).
SettingsT = TypeVar("SettingsT")


@dataclass(frozen=True, slots=True)
class Identity:
    """An XEP-0030 identity."""

    category: str
    type: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class RegistrationSpec:
    """What XEP-0077 asks of a user. Legacy field names must be XEP-0077 ones (phone, nick...)."""

    instructions: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True, slots=True)
class DataForm:
    """An XEP-0128 extended-info form (``muc#roominfo``, say) in a disco#info answer."""

    form_type: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """How a contact JID answers disco#info."""

    identities: tuple[Identity, ...]
    features: tuple[str, ...] = ()
    name: str | None = None
    extensions: tuple[DataForm, ...] = ()


@dataclass(frozen=True, slots=True)
class DiscoItem:
    """One disco#items entry."""

    jid: str
    node: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """XEP-0059 result set management as asked: ``before=""`` means the last page."""

    max: int | None = None
    after: str | None = None
    before: str | None = None
    index: int | None = None


@dataclass(frozen=True, slots=True)
class ItemsPage:
    """A page of disco#items; ``count`` only when the full size is known."""

    items: tuple[DiscoItem, ...]
    first: str | None = None
    first_index: int | None = None
    last: str | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class SoftwareVersion:
    """An XEP-0092 answer: what software a contact runs, as far as it says."""

    name: str
    version: str = ""
    os: str = ""


@dataclass(frozen=True, slots=True)
class PendingRegistration:
    """A registration the backend holds back (for an admin's approval, say).

    The user's XEP-0077 request is answered with success and ``notice`` reaches them as a
    chat message from the component; the store does not hold the registration until the
    backend binds it with ``BackendContext.bind_registration``.
    """

    notice: str


@dataclass(frozen=True, slots=True)
class SharedSettings:
    """The core's settings a backend may check its own against (``Backend.check_shared``)."""

    allowed_domains: tuple[str, ...]
    database_path: Path


class Backend(ABC, Generic[SettingsT]):
    """Base class for backends. Subclasses set the class attributes and implement ``send``.

    Generic over the settings ``parse_settings`` returns, so ``self.settings`` is typed:
    ``class MyBackend(Backend[MySettings])``; a backend without keys of its own is a
    ``Backend[None]``.
    """

    name: ClassVar[str]
    identities: ClassVar[tuple[Identity, ...]]
    features: ClassVar[tuple[str, ...]] = ()
    registration: RegistrationSpec | None = None
    # What a registration binds, as users call it: "number" for SMS ("This number is
    # already registered by another user").
    legacy_key_name: ClassVar[str] = "account"
    # The ``settings_table`` class of the backend's own keys; None: it has none.
    settings_type: ClassVar[type | None] = None
    resend_unconfirmed: ClassVar[bool] = True
    # True: the outbox may call ``send`` for a lane's next messages before the earlier
    # calls returned, so that a backend can put several on the wire at once. Such a
    # backend keeps each lane's messages in call order, retries by itself, and never
    # raises ``TemporaryFailure``.
    pipelined_sends: ClassVar[bool] = False
    rooms: Rooms | None = None  # group chats: set in __init__ for the core's MUC service

    def __init__(self, ctx: BackendContext, settings: SettingsT) -> None:
        self.ctx = ctx
        self.settings = settings

    @classmethod
    def parse_settings(cls, section: Mapping[str, object]) -> SettingsT:
        """Turn the backend's config section into settings; raise ``SettingsError``s.

        ``section`` is the parsed TOML table with the generic keys (``enabled``, ``jid``,
        ``secret``) removed. The default reads it into ``settings_type`` (a
        ``Backend[None]`` has none, accepts no keys at all and gets None). An override
        raises an ``ExceptionGroup`` of ``SettingsError`` to report several
        problems at once.
        """
        if cls.settings_type is not None:
            return cast("SettingsT", parse_settings(cls.settings_type, section))
        unknown = sorted(section)
        if unknown:
            raise ExceptionGroup(
                "settings", [SettingsError(k, "unknown key") for k in unknown]
            )
        return cast("SettingsT", None)

    @classmethod
    def check_shared(
        cls, settings: SettingsT, shared: SharedSettings
    ) -> Sequence[SettingsError]:
        """Problems of the backend's settings that show only next to the core's
        (``check-config`` and ``run`` report them); keys relative to the section."""
        return ()

    async def start(self) -> None:
        """Open connections, servers and tasks. Called once the store is open."""

    async def stop(self) -> None:
        """Close everything ``start`` opened; queued work stays in the store."""

    @abstractmethod
    def normalize_contact(self, localpart: str) -> str:
        """Return the canonical localpart for a contact JID, or raise ``AddressError``."""

    def contact_from_uri(self, uri: str) -> str:
        """XEP-0033 ``uri`` address (e.g. ``sms:+12125550142``) -> contact localpart.

        Only asked of backends that list ``http://jabber.org/protocol/address`` in
        ``features``; raise ``AddressError`` for URIs the network cannot reach.
        """
        raise AddressError(f"{uri} cannot be reached through this gateway")

    def contact_info(self, localpart: str) -> ContactInfo:
        """disco#info of a (normalised) contact JID."""
        return ContactInfo(identities=(Identity("client", "pc"),))

    async def disco_info(
        self, user: str, localpart: str, resource: str, node: str | None
    ) -> ContactInfo | None:
        """disco#info for any JID under the domain (a room, a server); None: the default."""
        return None

    async def disco_items(
        self, user: str, localpart: str, resource: str, node: str | None, page: PageRequest
    ) -> ItemsPage | None:
        """disco#items for a JID under the domain; None: the default (no items)."""
        return None

    async def ping_contact(self, requester: str, localpart: str, resource: str) -> None:
        """XEP-0199 ping from the full JID ``requester`` to a JID under the domain.

        Returning sends the result: the default returns at once, so the gateway answers
        for every contact as it does for its own domain. A backend whose contacts can
        answer for themselves returns once they did, or raises a ``GatewayError`` to
        answer with that error (``remote-server-timeout`` when they never answered).
        """

    async def contact_version(
        self, requester: str, localpart: str, resource: str
    ) -> SoftwareVersion | None:
        """XEP-0092 software version of a JID under the domain, asked by ``requester``.

        None (the default) lets the core answer with the gateway's own version; raise a
        ``GatewayError`` to answer with an error.
        """
        return None

    def contact_available(self, user: str, localpart: str) -> bool:
        """Whether a contact shows as available to ``user``."""
        return True

    def addressing_help(self, component_jid: str) -> str:
        """How users reach people on this network, for the answer to ``help``."""
        return f"Add contacts as ADDRESS@{component_jid}."

    def gateway_prompt(self) -> tuple[str, str]:
        """XEP-0100 ``jabber:iq:gateway``: (description, prompt label)."""
        return ("Enter the contact's address", "Address")

    async def translate_prompt(self, prompt: str) -> str:
        """XEP-0100: turn what a user typed into a contact localpart, or raise AddressError."""
        return self.normalize_contact(prompt)

    async def validate_registration(self, user: str, values: Mapping[str, str]) -> Registration:
        """Check registration form values; raise ``RegistrationRefused`` to refuse them."""
        return Registration(legacy_key=None, data=dict(values))

    async def hold_registration(
        self, user: str, registration: Registration
    ) -> PendingRegistration | None:
        """Asked after ``validate_registration``: None binds it now (the default); a
        ``PendingRegistration`` keeps it out of the store until the backend binds it; a
        ``GatewayError`` refuses it (``not-allowed``, ``conflict``...)."""
        return None

    async def withdraw_registration(self, user: str) -> bool:
        """A user who is not registered asked to unregister: drop a registration the
        backend holds back for them; True when there was one."""
        return False

    # Lifecycle hooks. The core calls them one at a time per user, in the order the events
    # happened (different users concurrently); one that raises is logged with the user and
    # changes nothing else. A user online when they unregister gets ``on_user_offline``
    # before ``on_unregistered``.

    async def on_registered(
        self, user: str, registration: Registration, previous: Registration | None
    ) -> None:
        """``user``'s registration was stored: by XEP-0077, the ``register`` command, or
        ``BackendContext.bind_registration`` (an approval, an admin). ``previous`` is the
        registration it replaced, None for a new one; a re-registration with the same
        legacy key and data calls nothing. The request does not wait for this hook."""

    async def on_user_online(self, user: str) -> None:
        """``user``'s first resource became available to this component (log in to the
        network here). Only for users who may use the gateway (registered, where the
        backend needs it). Not called again after a restart or reconnect for a user who
        stayed online meanwhile: the backend restores such sessions itself."""

    async def on_user_offline(self, user: str) -> None:
        """``user``'s last resource went (unavailable, an error, or their server said they
        are offline, which after a restart is how users who left meanwhile are found).
        Not called when the gateway stops: the users did not log out."""

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        """The user's registration (as it was) is gone; drop their legacy-side state, so
        that nothing of theirs passes to whoever registers the same legacy key next.
        The unregistration is answered once this returned."""

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """Hand a user's message to the legacy network.

        Raise ``TemporaryFailure`` when nothing was sent and a retry is safe, or
        ``DeliveryRefused`` when the network refused it for good.
        """

    def lane(self, message: OutgoingMessage) -> str:
        """Messages in one lane are sent in order, one at a time; lanes run concurrently."""
        return f"{message.user}\n{message.contact}"

    def commands(self) -> Sequence[Command]:
        """Extra XEP-0050 commands on the component domain."""
        return ()

    async def stats(self) -> Mapping[str, str | int]:
        """Figures for the admin ``stats`` command."""
        return {}

    @classmethod
    def migrations(cls) -> Sequence[str]:
        """SQL scripts for the backend's own tables, applied in order under its name."""
        return ()


@dataclass
class BackendStatus:
    """Counters the core keeps per backend, shown by the admin ``stats`` command."""

    sent: int = 0
    received: int = 0
    failed: int = 0
    extra: dict[str, int] = field(default_factory=dict)
