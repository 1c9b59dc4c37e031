"""Every XML namespace is spelled once, in ``transport.xmpp.namespaces``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import transport
from transport.xmpp import namespaces

PACKAGE = Path(transport.__file__).parent
HOME = PACKAGE / "xmpp" / "namespaces.py"
LOOKS_LIKE_A_NAMESPACE = re.compile(
    r"urn:ietf:params:xml:ns:|urn:xmpp|jabber:(?:iq|x|client|component|server)"
    r"|https?://jabber\.org/|vcard-temp|http://etherx\.jabber\.org")


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def namespace_literals(path: Path) -> list[tuple[int, str]]:
    """String constants (f-string pieces included, docstrings not) that name a namespace."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and LOOKS_LIKE_A_NAMESPACE.search(node.value)]


def test_no_module_but_namespaces_spells_a_namespace() -> None:
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}: {value!r}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path != HOME
                 for line, value in namespace_literals(path)]
    assert offenders == []


def test_the_scan_sees_literals_in_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docs may say urn:xmpp:sid:0."""\n'
                      'A = "urn:xmpp:receipts"\n'
                      'B = f"{{jabber:x:data}}x{A}"\n'
                      'C = "<x xmlns=\'http://jabber.org/protocol/muc#user\'/>"\n'
                      'D = "jabber:iq:version"\n',
                      encoding="utf-8")
    assert sorted(line for line, _ in namespace_literals(sample)) == [2, 3, 4, 5]


def test_every_name_is_a_distinct_namespace() -> None:
    values = [value for name, value in vars(namespaces).items()
              if name.isupper() and isinstance(value, str)]
    assert len(values) == len(set(values))
    assert all(LOOKS_LIKE_A_NAMESPACE.search(value) for value in values)
