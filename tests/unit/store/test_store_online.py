"""Who was announced online, per component: survives reopening, goes with the user."""

from __future__ import annotations

from transport.store import Store

C = "echo.localhost"


async def test_online_users_survive_a_reopen_per_component(db_path):
    store = await Store.open(db_path)
    await store.online_users.add(C, "bob@localhost")
    await store.online_users.add(C, "alice@localhost")
    await store.online_users.add(C, "alice@localhost")
    await store.online_users.add("sms.localhost", "carol@localhost")
    await store.close()
    store = await Store.open(db_path)
    try:
        assert await store.online_users.list(C) == ["alice@localhost", "bob@localhost"]
        assert await store.online_users.remove(C, "bob@localhost")
        assert not await store.online_users.remove(C, "bob@localhost")
        assert await store.online_users.list(C) == ["alice@localhost"]
        assert await store.online_users.list("sms.localhost") == ["carol@localhost"]
    finally:
        await store.close()


async def test_removing_a_user_forgets_they_were_online(store):
    await store.users.upsert(C, "alice@localhost", "alice", {})
    await store.online_users.add(C, "alice@localhost")
    await store.users.remove(C, "alice@localhost")
    assert await store.online_users.list(C) == []
