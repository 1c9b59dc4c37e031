"""The settings helper: declared keys read with their types, defaults and checks; every
problem reported at once with its dotted key; secrets never quoted; documented TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pytest

from transport.core.backend import Backend, Identity
from transport.core.events import OutgoingMessage, SendOutcome
from transport.core.settings import SettingsError, parse_settings, setting, settings_table
from transport.core.settings_example import ExampleWriter, toml_value


def _even(value: int) -> int | None:
    return value if value % 2 == 0 else None


def _no_spaces(value: str) -> str:
    if " " in value:
        raise ValueError("must not contain spaces")
    return value.lower()


@settings_table
class Peer:
    """One peer."""

    secure: bool = setting(default=True, doc="TLS or not.")
    port: int = setting(default=443, low=1, high=65535, doc="Default: 443, 80 without TLS.",
                        derive=lambda values: 80 if values.get("secure") is False else 443)
    weight: float | None = setting(default=None, example=1.5, doc="Share of the traffic.")


@settings_table
class Limits:
    """The limits."""

    per_day: int = setting(default=10, low=1, high=100, doc="Per day.")
    codes: frozenset[str] = setting(default=frozenset(), expected="a code like AB",
                                    plural="codes", check=_no_spaces, doc="Codes.")


@settings_table
class Demo:
    """The demo backend: a made-up network."""

    token: str = setting(secret=True, example="change-me", doc="Required. The API token.")
    name: str = setting(check=_no_spaces, example="demo", doc="Required.")
    mode: Literal["fast", "safe"] = setting(default="safe", doc="How it runs.")
    rate: float = setting(default=1.0, allow_zero=True, doc="0: no pacing.")
    timeout: float = setting(default=5.0, doc="Seconds.")
    ports: tuple[int, ...] = setting(default=(2, 4), check=_even, low=1, high=100,
                                     expected="an even port from 1 to 100",
                                     plural="port numbers", doc="Ports.")
    limits: Limits = setting(default_factory=Limits, doc="What one user may do.")
    peers: Mapping[str, Peer] = setting(default_factory=dict, check=_no_spaces,
                                        example="peer.example.org", doc="Listed peers.")


MINIMAL = {"token": "t0ken-value", "name": "Demo"}


def problems(section: Mapping[str, object]) -> list[str]:
    with pytest.raises(ExceptionGroup) as info:
        parse_settings(Demo, section)
    assert all(isinstance(e, SettingsError) for e in info.value.exceptions)
    return [str(e) for e in info.value.exceptions]


def test_defaults_types_and_checks() -> None:
    parsed = parse_settings(Demo, {**MINIMAL, "rate": 0, "ports": [6, 8, 6],
                                   "limits": {"codes": ["AB", "ab", "CD"]},
                                   "peers": {"Peer.Example.org": {"secure": False},
                                             "other": {"port": 8443, "weight": 2}}})
    assert parsed.name == "demo", "check normalises"
    assert (parsed.mode, parsed.rate, parsed.timeout) == ("safe", 0.0, 5.0)
    assert isinstance(parsed.rate, float)
    assert parsed.ports == (6, 8), "duplicates dropped, order kept"
    assert parsed.limits == Limits(per_day=10, codes=frozenset({"ab", "cd"}))
    assert parsed.peers == {"peer.example.org": Peer(secure=False, port=80, weight=None),
                            "other": Peer(secure=True, port=8443, weight=2.0)}
    assert parse_settings(Demo, MINIMAL).limits == Limits()
    with pytest.raises(AttributeError):
        parsed.name = "x"  # type: ignore[misc]


def test_every_problem_at_once_with_dotted_keys() -> None:
    assert problems({
        "token": 12345678, "name": "a b", "mode": "slow", "rate": -1, "timeout": 0,
        "ports": [2, 3, "x", 200], "colour": "blue",
        "limits": {"per_day": True, "codes": ["A B", 7], "per_hour": 1},
        "peers": {"p": {"port": 0, "secure": "yes"}, "q": 3},
    }) == [
        "token: expected a string",
        "name: must not contain spaces",
        'mode: expected one of "fast", "safe", got "slow"',
        "rate: expected a number 0 or more, got -1",
        "timeout: expected a number greater than 0, got 0",
        "ports[1]: expected an even port from 1 to 100, got 3",
        'ports[2]: expected an even port from 1 to 100, got "x"',
        "ports[3]: expected an even port from 1 to 100, got 200",
        "limits.per_day: expected an integer from 1 to 100, got true",
        "limits.codes[0]: must not contain spaces",
        "limits.codes[1]: expected a code like AB, got 7",
        "limits.per_hour: unknown key",
        'peers."p".secure: expected true or false, got "yes"',
        'peers."p".port: expected an integer from 1 to 65535, got 0',
        'peers."q": expected a table',
        "colour: unknown key",
    ]


def test_missing_and_misshapen_tables() -> None:
    assert problems({}) == ["token: missing", "name: missing"]
    assert problems({**MINIMAL, "token": "  ", "limits": [], "ports": 3, "peers": "x"}) == [
        "token: must not be empty",
        "ports: expected a list of port numbers, got 3",
        "limits: expected a table",
        'peers: expected a table, got "x"',
    ]


def test_a_secret_is_never_quoted() -> None:
    @settings_table
    class Keyed:
        """Keyed."""

        key: str = setting(secret=True, expected="a 16-character key", example="x" * 16,
                           check=lambda v: v if len(v) == 16 else None, doc="The key.")

    with pytest.raises(ExceptionGroup) as info:
        parse_settings(Keyed, {"key": "short-SECRET"})
    assert [str(e) for e in info.value.exceptions] == ["key: expected a 16-character key"]
    assert "0123456789abcdef" not in repr(parse_settings(Keyed, {"key": "0123456789abcdef"}))


def test_choices_ignore_case_and_paths_are_paths() -> None:
    @settings_table
    class Stored:
        """Stored."""

        path: Path = setting(example="x.db", doc="Required. Where.")
        sync: Literal["full", "normal"] = setting(default="full", doc="How.")

    parsed = parse_settings(Stored, {"path": "~/state/x.db", "sync": "NORMAL"})
    assert parsed == Stored(path=Path("~/state/x.db"), sync="normal")
    assert parse_settings(Demo, {**MINIMAL, "mode": "Fast"}).mode == "fast"


def test_an_undeclared_field_is_refused_at_parse_time() -> None:
    @settings_table
    class Careless:
        """Careless."""

        plain: int = 3

    with pytest.raises(TypeError, match="setting"):
        parse_settings(Careless, {})


class DemoBackend(Backend):
    name = "demo"
    identities = (Identity("gateway", "demo"),)
    settings_type = Demo

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        raise NotImplementedError


def test_a_backend_declaring_settings_type_gets_parse_settings() -> None:
    assert DemoBackend.parse_settings(MINIMAL) == parse_settings(Demo, MINIMAL)
    with pytest.raises(ExceptionGroup):
        DemoBackend.parse_settings({})


def test_example_lines_parse_back_to_the_documented_values() -> None:
    enabled = ExampleWriter(True)
    enabled.table(Demo, "demo")
    text = "\n".join(enabled.lines)
    assert "# Required. The API token.\ntoken = \"change-me\"" in text
    assert '\n[demo.peers."peer.example.org"]\n' in text
    assert text.index("[demo.limits]") > text.index("ports = [2, 4]"), "keys before tables"
    data = tomllib.loads("[demo]\n" + text)["demo"]
    parsed = parse_settings(Demo, data)
    assert parsed.peers["peer.example.org"] == Peer(weight=1.5)
    assert parsed.limits == Limits() and parsed.ports == (2, 4)
    disabled = ExampleWriter(False)
    disabled.table(Demo, "demo")
    for line in disabled.lines:
        assert line == "#" or line.startswith(("# ", "## ")), line
    assert [line[2:] for line in disabled.lines if line.startswith("# ")] == [
        line for line in enabled.lines if line and not line.startswith("#")]


def test_toml_values() -> None:
    assert [toml_value(v) for v in (True, 3, 2.5, "a\"b", (1, 2), frozenset({"b", "a"}))] \
        == ["true", "3", "2.5", '"a\\"b"', "[1, 2]", '["a", "b"]']
