"""The figures each part of the hostile suite reports, printed at the end of the run."""

from __future__ import annotations

import os

DEFAULT_SEED = 20261207


def seed() -> int:
    """The suite's seed: ``HOSTILE_SEED`` from the environment replays a failing run."""
    return int(os.environ.get("HOSTILE_SEED", DEFAULT_SEED))


FIGURES: list[tuple[str, list[str]]] = []


def record(part: str, **figures: object) -> None:
    """Keep one part's figures (also when its checks then fail)."""
    lines = [f"{name.replace('_', ' ')}: {value}" for name, value in figures.items()]
    FIGURES.append((part, lines))
