"""The first backend of docs/backends.md, and its test from the same page, run as written.

The page's "A first backend" block becomes the module ``mynet_transport``, and its "Testing
a backend" block is executed here, so pytest collects that block's fixtures and test and
runs them with the test kit against a real Prosody: a guide whose first example stopped
working fails here.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import transport

GUIDE = Path(transport.__file__).resolve().parent.parent / "docs" / "backends.md"


def first_block(section: str) -> str:
    """The first Python block under the ``## section`` heading of the guide."""
    text = GUIDE.read_text().split(f"\n## {section}\n", 1)[1]
    found = re.search(r"^```python\n(.*?)^```$", text, re.M | re.S)
    assert found is not None, f"no Python block under {section!r}"
    return found.group(1)


def _load_first_backend() -> None:
    module = types.ModuleType("mynet_transport")
    module.__file__ = f"{GUIDE}#a-first-backend"
    sys.modules["mynet_transport"] = module
    exec(compile(first_block("A first backend"), module.__file__, "exec"), module.__dict__)


_load_first_backend()
exec(compile(first_block("Testing a backend"), f"{GUIDE}#testing-a-backend", "exec"))
