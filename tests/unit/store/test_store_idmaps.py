"""IdMapRepo: legacy ids -> XMPP message, resolved exactly once."""

from __future__ import annotations

import asyncio

from transport.store import IdMapping, IdMapRepo, Store

C = "sms.example.org"
ALICE = "alice@example.org"


async def _add(store: Store, ids: list[str], xmpp_id: str = "x1", receipt: bool = True) -> None:
    await store.id_maps.add(C, ids, ALICE, f"{ALICE}/phone", "+12125550142", xmpp_id, receipt)


async def test_add_and_lookups(store: Store) -> None:
    await _add(store, ["SM1", "SM2"])
    await _add(store, ["SM3"], xmpp_id="x2", receipt=False)
    mapping = await store.id_maps.by_legacy_id(C, "SM2")
    assert isinstance(mapping, IdMapping)
    assert (mapping.user, mapping.full_jid, mapping.contact, mapping.xmpp_id) == (
        ALICE,
        f"{ALICE}/phone",
        "+12125550142",
        "x1",
    )
    assert mapping.receipt_requested is True and mapping.resolved is False
    assert [m.legacy_id for m in await store.id_maps.by_xmpp_id(C, ALICE, "x1")] == ["SM1", "SM2"]
    assert await store.id_maps.by_xmpp_id(C, "bob@example.org", "x1") == []
    assert await store.id_maps.by_legacy_id(C, "nope") is None
    assert await store.id_maps.by_legacy_id("other", "SM1") is None
    third = await store.id_maps.by_legacy_id(C, "SM3")
    assert third is not None and third.receipt_requested is False


async def test_resolve_is_true_only_once(store: Store) -> None:
    await _add(store, ["SM1", "SM2"])
    assert await store.id_maps.resolve(C, "SM1") is True
    assert await store.id_maps.resolve(C, "SM1") is False
    assert await store.id_maps.resolve(C, "unknown") is False
    concurrent = await asyncio.gather(*(store.id_maps.resolve(C, "SM2") for _ in range(10)))
    assert concurrent.count(True) == 1
    mapping = await store.id_maps.by_legacy_id(C, "SM1")
    assert mapping is not None and mapping.resolved is True
    # re-adding a known id keeps the first mapping and its resolved flag
    await _add(store, ["SM1"], xmpp_id="other")
    again = await store.id_maps.by_legacy_id(C, "SM1")
    assert again is not None and (again.xmpp_id, again.resolved) == ("x1", True)


async def test_prune_removes_old_mappings(store: Store) -> None:
    now = [10.0]
    id_maps = IdMapRepo(store.db, clock=lambda: now[0])
    await id_maps.add(C, ["old"], ALICE, ALICE, "c", "x1", False)
    now[0] = 20.0
    await id_maps.add(C, ["new"], ALICE, ALICE, "c", "x2", False)
    assert await id_maps.prune(15.0) == 1
    assert await store.id_maps.by_legacy_id(C, "old") is None
    assert await store.id_maps.by_legacy_id(C, "new") is not None
