"""Generated ids: UUIDv7, unique, and in time order from one millisecond to the next."""

from __future__ import annotations

import os
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


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    new_id()  # the pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[12:] != new_id()[12:]
