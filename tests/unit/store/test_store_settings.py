"""UserSettingsRepo: JSON values per (component, user, key)."""

from __future__ import annotations

import pytest

from transport.store import Store

C = "irc.example.org"
ALICE = "alice@example.org"


async def test_set_get_all_overwrite_and_delete(store: Store) -> None:
    assert await store.user_settings.get_all(C, ALICE) == {}
    await store.user_settings.set(C, ALICE, "nick", "al")
    await store.user_settings.set(C, ALICE, "channels", ["#a", "#b"])
    await store.user_settings.set(C, ALICE, "limits", {"lines": 3, "on": True, "x": None})
    await store.user_settings.set(C, "bob@example.org", "nick", "bob")
    await store.user_settings.set(C, ALICE, "nick", "alice")
    assert await store.user_settings.get_all(C, ALICE) == {
        "nick": "alice",
        "channels": ["#a", "#b"],
        "limits": {"lines": 3, "on": True, "x": None},
    }
    assert await store.user_settings.delete(C, ALICE, "nick") is True
    assert await store.user_settings.delete(C, ALICE, "nick") is False
    assert set(await store.user_settings.get_all(C, ALICE)) == {"channels", "limits"}
    assert await store.user_settings.get_all("sms.example.org", ALICE) == {}


async def test_unserialisable_value_is_refused_before_writing(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.user_settings.set(C, ALICE, "bad", object())
    assert await store.user_settings.get_all(C, ALICE) == {}
