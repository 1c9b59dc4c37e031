"""The guide's examples are the code the suite checks.

docs/example.md: each ``### `examples/…` `` heading is followed by a Python block that must
equal that file, and every file of the example has one, so the code a reader copies is the
code that ``tests/integration/test_example_rooms.py``, ``examples/test_roomchat.py`` and
``mypy --strict`` check: an edit to either side without the other fails here.
docs/backends.md: its first backend passes ``mypy --strict`` on its own (it is run by
``tests/integration/test_docs_first_backend.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import transport

REPO = Path(transport.__file__).resolve().parent.parent
EXAMPLE_DOC = REPO / "docs" / "example.md"
SHOWN = re.compile(r"^### `(examples/[^`]+)`\n.*?^```python\n(.*?)^```$", re.M | re.S)


def shown_files() -> dict[str, str]:
    found = SHOWN.findall(EXAMPLE_DOC.read_text())
    shown = dict(found)
    assert len(shown) == len(found), "a file is shown twice"
    return shown


def example_files() -> set[str]:
    package = REPO / "examples" / "roomchat"
    files = [*package.glob("*.py"), *(REPO / "examples").glob("test_*.py")]
    return {str(path.relative_to(REPO)) for path in files}


def test_every_file_of_the_example_is_shown() -> None:
    assert set(shown_files()) == example_files()


def test_every_block_is_its_file_exactly() -> None:
    different = sorted(path for path, code in shown_files().items()
                       if (REPO / path).read_text() != code)
    assert different == [], f"docs/example.md differs from {different}"


def test_the_guide_leads_to_the_example() -> None:
    assert "(example.md)" in (REPO / "docs" / "backends.md").read_text()


@pytest.mark.timeout(300)
def test_the_guides_first_backend_passes_mypy_strict_alone(tmp_path: Path) -> None:
    guide = (REPO / "docs" / "backends.md").read_text().split("\n## A first backend\n", 1)[1]
    block = re.search(r"^```python\n(.*?)^```$", guide, re.M | re.S)
    assert block is not None
    (tmp_path / "mynet_transport.py").write_text(block.group(1))
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    env = {**os.environ, "MYPYPATH": str(REPO)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-site-packages", "--config-file",
         "mypy.ini", "--cache-dir", str(tmp_path / "cache"), "mynet_transport.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
