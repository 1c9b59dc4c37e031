"""XEP-0004 fields and XEP-0050 commands, described without XMPP: what a backend (or the
core) offers as forms and ad-hoc commands; ``transport.xmpp`` renders them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormField:
    """One XEP-0004 field; for registration ``var`` doubles as the XEP-0077 legacy field."""

    var: str
    label: str
    type: str = "text-single"
    required: bool = True
    desc: str = ""
    options: tuple[tuple[str, str], ...] = ()
    value: str | list[str] | bool | None = None



@dataclass(frozen=True, slots=True)
class CommandResult:
    """The outcome of a neutral ad-hoc command step: a note, or a form to fill next."""

    note: str = ""
    form: tuple[FormField, ...] = ()
    form_title: str = ""
    form_instructions: str = ""
    note_type: str = "info"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """Who runs a command, and on which JID: ``target`` is the contact localpart the
    command was sent to ('' for the component domain itself)."""

    requester: str
    target: str = ""


#: A submitted field's value: text (``text-single``, ``list-single``, ``jid-single``...),
#: one string per line or option (``text-multi``, ``list-multi``, ``jid-multi``), a bool
#: (``boolean``), or None (sent without a value).
FormValue = str | list[str] | bool | None
#: A submitted form, by field ``var`` (without ``FORM_TYPE``).
FormValues = Mapping[str, FormValue]
#: Called with ``None`` to start a command, then with each submitted form.
CommandHandler = Callable[[CommandRequest, FormValues | None], Awaitable[CommandResult]]


def gateway_only(target: str) -> bool:
    """The default ``Command.targets``: only the component domain offers the command."""
    return target == ""


@dataclass(frozen=True, slots=True)
class Command:
    """A XEP-0050 command, on the component domain or on contact JIDs.

    The handler is called with ``None`` to start, then again with the submitted form
    values; returning a form keeps the session open. ``targets`` says which JIDs offer it,
    by their localpart ('' = the domain), so a backend can put commands on rooms or servers.
    """

    node: str
    name: str
    handler: CommandHandler
    admin_only: bool = False
    needs_registration: bool = False
    targets: Callable[[str], bool] = gateway_only
