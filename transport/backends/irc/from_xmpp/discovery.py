"""Disco answers for rooms, server JIDs and occupants; the channel LIST with RSM paging.

biboumi's semantics: a server JID's items are its channels (LIST), at most 100 per page
without RSM, paged by channel name with ``after``/``before``; ``count`` is given once the
whole list is known. Item names are display text: like biboumi, mIRC formatting is
stripped from them and non-UTF-8 topics are decoded with the user's ``encoding_in``.
"""

from __future__ import annotations

import asyncio

from transport.backends.irc.addressing import Address, parse
from transport.backends.irc.session.manager import SessionManager
from transport.backends.irc.text import clean
from transport.core.backend import (
    ContactInfo,
    DataForm,
    DiscoItem,
    FormField,
    Identity,
    ItemsPage,
    PageRequest,
)
from transport.core.errors import GatewayError
from transport.xmpp.escaping import escape_node
from transport.xmpp.namespaces import DISCO_ITEMS, MAM, MUC, MUC_SELF_PING, SID, VERSION
from transport.xmpp.namespaces import MUC_ROOMINFO as ROOMINFO

MUC_FEATURES = (
    MUC,
    "muc_nonanonymous",
    "muc_open",
    "muc_temporary",
    "muc_unmoderated",
    "muc#stable_id",
    SID,
    MUC_SELF_PING,
)
DEFAULT_PAGE = 100


class Discovery:
    """Implements the backend's ``disco_info``/``disco_items`` hooks."""

    def __init__(self, manager: SessionManager, mam: bool) -> None:
        self.manager = manager
        self.mam = mam

    def _parse(self, localpart: str) -> Address:
        return parse(localpart, self.manager.bridge.info)

    async def info(self, user: str, localpart: str, resource: str,
                   node: str | None) -> ContactInfo | None:
        address = self._parse(localpart)
        if node:
            return None
        if address.kind == "server":
            return ContactInfo(identities=(Identity("conference", "irc", address.server),),
                               features=(DISCO_ITEMS,
                                         VERSION))
        if address.kind != "channel" or resource:
            return ContactInfo(identities=(Identity("client", "pc", resource or address.name),),
                               features=(VERSION,))
        features = MUC_FEATURES + ((MAM,) if self.mam else ())
        session = self.manager.get(user, address.server)
        channel = session.channels.get(session.isupport.fold(address.name)) if session else None
        extensions: tuple[DataForm, ...] = ()
        if channel is not None and channel.joined:
            extensions = (DataForm(ROOMINFO, (
                FormField("muc#roominfo_occupants", "Number of occupants", type="text-single",
                          value=str(len(channel.members))),
                FormField("muc#roominfo_subject", "Subject", value=channel.topic or ""),
            )),)
        name = f"{address.name} on {address.server}"
        return ContactInfo(identities=(Identity("conference", "text", name),),
                           features=features, name=name, extensions=extensions)

    async def items(self, user: str, localpart: str, resource: str, node: str | None,
                    page: PageRequest) -> ItemsPage | None:
        address = self._parse(localpart)
        if address.kind != "server" or node or resource:
            return None
        channels = await self._list(user, address.server)
        names = [c[0] for c in channels]
        size = page.max if page.max is not None else DEFAULT_PAGE
        if page.after:
            start = names.index(page.after) + 1 if page.after in names else len(names)
        elif page.before is not None:
            end = names.index(page.before) if page.before in names else len(names)
            start = max(0, end - size)
        elif page.index is not None:
            start = page.index
        else:
            start = 0
        chunk = channels[start:start + size]
        component = self.manager.bridge.jids.component
        encoding = await self.manager.bridge.encoding_in(user, address.server, None)
        items = tuple(
            DiscoItem(f"{escape_node(name.lower() + '%' + address.server)}@{component}",
                      None, _display(name, users, topic, encoding))
            for name, users, topic in chunk)
        return ItemsPage(items=items, first=chunk[0][0] if chunk else None,
                         first_index=start if chunk else None,
                         last=chunk[-1][0] if chunk else None, count=len(channels))

    async def _list(self, user: str, host: str) -> list[tuple[str, int, str]]:
        session = self.manager.ensure(user, host)
        await session.wait_until(lambda: session.ready, session.registered)
        if session.list_done is None or session.list_done.done():
            session.list_done = asyncio.get_running_loop().create_future()
            session.write_soon("LIST")
        try:
            result = await asyncio.wait_for(asyncio.shield(session.list_done), 30)
        except (TimeoutError, ConnectionError) as exc:
            raise GatewayError("The IRC server did not list its channels",
                               "remote-server-timeout", "wait") from exc
        return sorted(result, key=lambda c: c[0].lower())


def _display(name: str, users: int, topic: str, encoding: str) -> str:
    """An item's name as biboumi shows it: ``#chan (users): topic``, formatting stripped."""
    label = f"{clean(name, encoding)} ({users})"
    topic = clean(topic, encoding).strip()
    return f"{label}: {topic}" if topic else label
