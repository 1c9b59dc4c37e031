"""Small stand-ins for asyncio's Event and Queue, and a table of shared values, for what
is kept once per connection.

An ``asyncio.Event`` allocates a deque up front (about 0.8 KiB) and an ``asyncio.Queue``
four of them (about 3.3 KiB), waiters or not. A gateway keeps several of each for every
IRC connection and joined channel, for hours, while almost nobody waits on them: these
keep a list only while someone does. Single event loop, no thread safety, like asyncio's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Flag(asyncio.Event):
    """``asyncio.Event`` with the same behaviour (``set`` wakes every waiter, ``clear``
    only affects later waits), allocating nothing until someone waits.

    A subclass so that it fits wherever an ``asyncio.Event`` is expected; every public
    method is implemented here and the base class's state is never created.
    """

    __slots__ = ("_set", "_sleepers")

    def __init__(self) -> None:  # no super().__init__(): that is what allocates the deque
        self._set = False
        self._sleepers: list[asyncio.Future[Literal[True]]] | None = None

    def __repr__(self) -> str:
        state = "set" if self._set else "unset"
        return f"<Flag [{state}, waiters:{len(self._sleepers or ())}]>"

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        sleepers, self._sleepers = self._sleepers, None
        for fut in sleepers or ():
            if not fut.done():
                fut.set_result(True)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> Literal[True]:
        if self._set:
            return True
        fut: asyncio.Future[Literal[True]] = asyncio.get_running_loop().create_future()
        if self._sleepers is None:
            self._sleepers = []
        self._sleepers.append(fut)
        try:
            return await fut
        finally:
            if self._sleepers is not None and fut in self._sleepers:
                self._sleepers.remove(fut)
                if not self._sleepers:
                    self._sleepers = None


class Inbox(Generic[T]):
    """An unbounded FIFO for one consumer task, with the part of ``asyncio.Queue``'s
    interface such a consumer uses (``put_nowait``, ``get``, ``get_nowait``, ``empty``,
    ``qsize``) plus taking several at once.

    The buffer is a plain list read from ``_head`` on, replaced (not kept) whenever it is
    emptied and compacted once mostly read, so taking items one by one stays O(1).
    """

    __slots__ = ("_head", "_items", "_wakeup")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._head = 0
        self._wakeup: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items) - self._head

    def empty(self) -> bool:
        return self._head == len(self._items)

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def get_nowait(self) -> T:
        """The oldest item; ``asyncio.QueueEmpty`` when there is none."""
        return self.take(1)[0]

    def take(self, limit: int) -> list[T]:
        """The ``limit`` oldest items or fewer, without waiting; ``asyncio.QueueEmpty``
        when there is none."""
        items, head = self._items, self._head
        if head == len(items):
            raise asyncio.QueueEmpty
        if head == 0 and len(items) <= limit:
            self._items = []
            return items
        end = min(head + limit, len(items))
        batch = items[head:end]
        if end == len(items):
            self._items, self._head = [], 0
        elif end > 64 and 2 * end > len(items):
            del items[:end]
            self._head = 0
        else:
            items[head:end] = [None] * (end - head)  # type: ignore[list-item]
            self._head = end
        return batch

    async def wait(self) -> None:
        """Return once the inbox holds an item (at once if it does)."""
        while self.empty():
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    async def get(self) -> T:
        await self.wait()
        return self.get_nowait()


class Shared(Generic[K, V]):
    """The first value seen for each key, handed to everyone asking with an equal key, so
    that equal read-only tables (what a server told each connection) exist once.

    Bounded: past ``limit`` keys the least recently asked for is forgotten (its value lives
    on with whoever holds it; later equal ones are simply not shared with it).
    """

    __slots__ = ("_limit", "_table")

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._table: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: K, value: V) -> V:
        """The shared value for ``key``; ``value`` becomes it when there is none yet."""
        shared = self._table.get(key)
        if shared is None:
            self._table[key] = shared = value
            if len(self._table) > self._limit:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(key)
        return shared


SMALL = 64
"""Tables and sets up to this size are shared; larger ones (only a misbehaving server sends
that much) stay private and are changed in place, so that each change costs O(change)."""


class SharedTables:
    """Copy-on-write string tables shared between connections (ISUPPORT, capabilities).

    ``writable`` gives a table that may be changed (a copy of a small one, which may be
    shared; a large one itself); ``share`` hands back the shared equal one when it is small.
    """

    __slots__ = ("_tables",)

    def __init__(self, limit: int = 256) -> None:
        self._tables: Shared[frozenset[tuple[str, str]], dict[str, str]] = Shared(limit)

    @staticmethod
    def writable(table: dict[str, str]) -> dict[str, str]:
        return dict(table) if len(table) <= SMALL else table

    def share(self, table: dict[str, str]) -> dict[str, str]:
        if len(table) > SMALL:
            return table
        return self._tables.get(frozenset(table.items()), table)
