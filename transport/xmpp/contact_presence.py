"""Contacts' presence as the backend pushes it (``BackendContext.contact_presence``).

The last state pushed for each (user, contact) is kept in memory, so that probes,
subscriptions and the start-up announcement tell a user what the backend told them last;
a contact never pushed is answered by ``Backend.contact_available``. The state is lost on
a restart (the backend pushes again as its legacy sessions come back) and forgotten when
the user unregisters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from transport.core.context import Show
from transport.xmpp.render import attr, text

SHOWS: frozenset[str] = frozenset({"away", "chat", "dnd", "xa"})


@dataclass(frozen=True, slots=True)
class ContactState:
    """One available resource of a contact."""

    show: Show | None = None
    status: str | None = None


class ContactPresences:
    """The pushed state: user -> contact localpart -> available resources ('' = bare)."""

    def __init__(self) -> None:
        self._users: dict[str, dict[str, dict[str, ContactState]]] = {}

    def available(self, user: str, contact: str, resource: str, state: ContactState) -> None:
        self._users.setdefault(user, {}).setdefault(contact, {})[resource] = state

    def unavailable(self, user: str, contact: str, resource: str) -> None:
        """``resource`` is gone; '' takes the whole contact offline."""
        resources = self._users.setdefault(user, {}).setdefault(contact, {})
        if resource:
            resources.pop(resource, None)
        else:
            resources.clear()

    def of(self, user: str, contact: str) -> Mapping[str, ContactState] | None:
        """The contact's available resources (empty: pushed offline); None if never pushed."""
        contacts = self._users.get(user)
        return None if contacts is None else contacts.get(contact)

    def forget(self, user: str) -> None:
        self._users.pop(user, None)


def render_contact_presence(sender: str, to: str, state: ContactState | None,
                            status: str | None = None) -> str:
    """An available presence for ``state``, or an unavailable one (with ``status``) for None."""
    head = f'<presence to="{attr(to)}" from="{attr(sender)}"'
    if state is None:
        if status is None:
            return head + ' type="unavailable"/>'
        return f'{head} type="unavailable"><status>{text(status)}</status></presence>'
    if state.show is None and state.status is None:
        return head + "/>"
    parts = [head, ">"]
    if state.show is not None:
        parts.append(f"<show>{state.show}</show>")
    if state.status is not None:
        parts.append(f"<status>{text(state.status)}</status>")
    parts.append("</presence>")
    return "".join(parts)
