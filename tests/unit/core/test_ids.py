"""Generated ids: UUIDv7, unique, and in time order from one millisecond to the next."""

from __future__ import annotations

import time
import uuid

from transport.core.ids import new_id, new_id_bytes


def test_ids_are_uuid7_unique_and_time_ordered() -> None:
    before = time.time_ns() // 1_000_000
    first = [new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_id()
    parsed = uuid.UUID(first[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert len(set(first)) == 1000 and all(len(i) == 32 for i in first)
    assert int(first[0][:12], 16) >= before
    assert later > max(first)
    assert len(new_id_bytes()) == 16
