"""Every file and every ``transport.…`` name the documentation points at exists.

A guide that names a module which was moved or renamed sends a newcomer to read the source
for what is not there; this catches the rename instead. Checked: paths in inline code
(`` `transport/…` ``, `` `examples/…` ``, `` `tests/…` ``...), relative Markdown links, and
dotted names (`` `transport.core.rooms.Occupant` ``, `` `transport.backends.irc:IrcBackend` ``)
in ``README.md`` and ``docs/*.md``; and the "Where the code is" table of ``docs/irc.md``
against ``transport/backends/irc/``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import transport

REPO = Path(transport.__file__).resolve().parent.parent
DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"(?<![\w/.<-])((?:transport|examples|tests|docs|scripts|contrib|bench)/"
                  r"[\w./-]*)")
DOTTED = re.compile(r"(?<![\w/.-])(transport(?:\.\w+)+(?::\w+)?)")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _prose(path: Path) -> str:
    """The document without its fenced code blocks (checked by the code's own tests)."""
    return FENCE.sub("", path.read_text())


def _spans(path: Path) -> Iterator[str]:
    yield from INLINE.findall(_prose(path))


def _resolves(dotted: str) -> bool:
    """Whether ``a.b.c`` (or ``a.b:c``) is a module, or an attribute chain of one."""
    module_part, _, attribute = dotted.partition(":")
    parts = module_part.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in [*parts[cut:], *([attribute] if attribute else [])]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_path_in_inline_code_exists(document: Path) -> None:
    missing = sorted({
        found for span in _spans(document) for found in PATH.findall(span)
        if not (REPO / found.rstrip(".")).exists()
    })
    assert missing == [], f"{document.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path) -> None:
    targets = {link.partition("#")[0] for link in LINK.findall(_prose(document))}
    missing = sorted(
        target for target in targets
        if target and "://" not in target and not target.startswith("mailto:")
        and not (document.parent / target).exists()
    )
    assert missing == [], f"{document.name} links to files that do not exist: {missing}"


def _anchors(path: Path) -> set[str]:
    """The ids GitHub gives the headings of a Markdown file."""
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", _prose(path), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        taken = slug
        while taken in found:
            taken = f"{slug}-{len([a for a in found if a.startswith(slug)])}"
        found.add(taken)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_to_a_heading_finds_it(document: Path) -> None:
    missing = []
    for link in set(LINK.findall(_prose(document))):
        target, _, anchor = link.partition("#")
        if not anchor or "://" in target or not (target == "" or target.endswith(".md")):
            continue
        linked = document.parent / target if target else document
        if linked.exists() and anchor not in _anchors(linked):
            missing.append(link)
    assert sorted(missing) == [], f"{document.name} links to headings that do not exist"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_dotted_transport_name_resolves(document: Path) -> None:
    names = {found for span in _spans(document) for found in DOTTED.findall(span)}
    missing = sorted(name for name in names if not _resolves(name))
    assert missing == [], f"{document.name} names what does not exist: {missing}"


def test_the_checks_catch_a_wrong_name() -> None:
    assert _resolves("transport.core.rooms.Occupant")
    assert _resolves("transport.backends.irc:IrcBackend")
    assert not _resolves("transport.backends.irc.ordering")
    assert not _resolves("transport.core.rooms.NoSuchThing")
    assert PATH.findall("see transport/backends/irc/ordering.py") == [
        "transport/backends/irc/ordering.py"]
    anchors = _anchors(REPO / "docs" / "backends.md")
    assert {"a-first-backend", "typing-mypy---strict"} <= anchors
    assert "ordering" not in anchors


def test_the_irc_code_map_matches_the_package() -> None:
    """Each row of docs/irc.md's "Where the code is" names a folder or modules that exist
    there, and every folder of the package has a row."""
    text = (REPO / "docs" / "irc.md").read_text()
    table = text.split("## Where the code is", 1)[1].split("\n## ", 1)[0]
    package = REPO / "transport" / "backends" / "irc"
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert rows
    missing: list[str] = []
    folders: set[str] = set()
    for row in rows:
        first, held = row.split("|")[1:3]
        for name in INLINE.findall(first):
            if name.endswith("/"):
                folders.add(name.rstrip("/"))
                base = package / name
                missing += [f"{name}{m}" for m in re.findall(r"`(\w+\.py)`", held)
                            if not (base / m).exists()]
            if not (package / name).exists():
                missing.append(name)
    assert missing == [], f"docs/irc.md names what transport/backends/irc/ lacks: {missing}"
    actual = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert actual - folders == set(), "folders of transport/backends/irc/ without a row"
