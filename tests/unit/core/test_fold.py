"""PresenceFold: presences folded and applied at once leave what they leave one by one."""

from __future__ import annotations

import random

from transport.core.fold import PresenceFold

RESOURCES = ["phone", "laptop", "", "r" * 50]
TARGETS = ["echo.example", "bob@echo.example", "#room%irc@echo.example"]


def one_by_one(resources: dict[str, set[str]], event: tuple[str, ...]) -> None:
    """What the lifecycle does with each presence when it is not folded."""
    kind = event[0]
    if kind == "available":
        resources.setdefault(event[1], set()).add(event[2])
    elif kind == "unavailable" and (targets := resources.get(event[1])) is not None:
        targets.discard(event[2])
        if not targets:
            del resources[event[1]]
    elif kind == "failed":
        resources.pop(event[1], None)
    elif kind == "gone":
        resources.clear()


def fold_in(fold: PresenceFold, event: tuple[str, ...]) -> None:
    kind = event[0]
    if kind in ("available", "unavailable"):
        fold.add(event[1], event[2], available=kind == "available")
    elif kind == "failed":
        fold.fail(event[1])
    else:
        fold.drop_all()


def draw(rng: random.Random) -> tuple[str, ...]:
    kind = rng.choice(["available", "available", "unavailable", "unavailable", "failed",
                       "gone"] if rng.random() < 0.9 else ["gone"])
    return (kind, rng.choice(RESOURCES), rng.choice(TARGETS))


def test_a_fold_ends_where_the_presences_one_by_one_end():
    rng = random.Random(11)
    for _ in range(2000):
        start = {r: set(rng.sample(TARGETS, rng.randrange(1, 3)))
                 for r in rng.sample(RESOURCES, rng.randrange(len(RESOURCES)))}
        events = [draw(rng) for _ in range(rng.randrange(1, 30))]
        expected = {r: set(t) for r, t in start.items()}
        fold = PresenceFold()
        for event in events:
            one_by_one(expected, event)
            fold_in(fold, event)
        folded = {r: set(t) for r, t in start.items()}
        fold.apply(folded)
        assert folded == expected, events
        assert fold.heard == any(e[0] in ("available", "gone") for e in events)
        assert len(fold.changes) <= len(RESOURCES) * len(TARGETS), "one entry per pair"


def test_an_unavailable_after_an_available_still_counts_as_heard_from():
    fold = PresenceFold()
    fold.add("phone", "echo.example", available=True)
    fold.add("phone", "echo.example", available=False)
    assert fold.heard and not fold.adds
