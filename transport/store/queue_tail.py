"""The newest rows of the XMPP queue, kept in memory so the pump need not read them back.

Under a flood the delivery pump read every message back from SQLite right after it was
committed, and decoded its JSON again: a reader-thread round trip and a decode per line.
The queue repository records here what it has just committed; the pump is answered from
here whenever that is known to be the whole story.

"Known" is ``complete_after``: every queued row above that id is in ``rows``. It is set
by a read of the table that reached the end (what was committed before the read is in
the read, what came after was recorded here), and dropped whenever that may not hold: a
writer cancelled mid-commit, too many rows while XMPP is away.
"""

from __future__ import annotations

from collections.abc import Iterable

from transport.core.events import XmppMessage

_LIMIT = 20_000


class QueueTail:
    """One component's recently queued messages, by row id."""

    __slots__ = ("complete_after", "newest", "rows")

    def __init__(self) -> None:
        self.rows: dict[int, XmppMessage] = {}
        self.complete_after: int | None = None
        # The highest row id this process committed: kept through ``forget``, it is what a
        # stanza sent "after everything queued so far" waits for (``DeliveryPump``).
        self.newest = 0

    def add(self, row_ids: Iterable[int], messages: Iterable[XmppMessage]) -> None:
        self.rows.update(zip(row_ids, messages, strict=True))
        if len(self.rows) > _LIMIT:
            self.forget()

    def forget(self) -> None:
        """Something may be missing: the next reads go to the table."""
        self.rows.clear()
        self.complete_after = None

    def pending(self, after: int, limit: int) -> list[tuple[int, XmppMessage]] | None:
        """Up to ``limit`` rows after ``after`` in order, or None if the table must say."""
        if self.complete_after is None or after < self.complete_after:
            return None
        ids = sorted(row_id for row_id in self.rows if row_id > after)[:limit]
        return [(row_id, self.rows[row_id]) for row_id in ids]

    def read_to_end(self, after: int, last_read: int | None) -> None:
        """A read of every row after ``after`` returned them all, the last being
        ``last_read``: anything newer is committed later, so recorded here."""
        self.complete_after = max(after, last_read or 0)

    def done(self, row_ids: Iterable[int]) -> None:
        for row_id in row_ids:
            self.rows.pop(row_id, None)

    def drop_recipient(self, bare_jid: str) -> None:
        """Mirror of deleting a user's queued messages (to the bare JID or any resource)."""
        prefix = bare_jid + "/"
        for row_id in [r for r, m in self.rows.items()
                       if m.to == bare_jid or m.to.startswith(prefix)]:
            del self.rows[row_id]
