"""Config loading: every problem named by its TOML key path, all of them at once."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from transport.config import (
    ComponentSettings,
    ConfigError,
    MetricsSettings,
    Settings,
    XmppSettings,
    load_settings,
)
from transport.core import registry
from transport.core.backend import Backend, Identity, SettingsError, setting, settings_table
from transport.core.events import OutgoingMessage, SendOutcome

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
TOKEN = "tok-SECRET-123456"


@dataclasses.dataclass(frozen=True)
class ApiSettings:
    url: str
    token: str = dataclasses.field(repr=False)


@settings_table
class ApiKeys:
    """The declaration of ``[api.api]``: its token may come from ``API_TOKEN``."""

    token: str = setting(doc="The token.", secret=True, env="API_TOKEN", example="t")
    url: str = setting(default="https://x", doc="The URL.")


@settings_table
class ApiSection:
    api: ApiKeys = setting(doc="The API.")


class ApiBackend(Backend):
    """Test-only backend with a nested table and an env-provided secret, like sms; its own
    ``parse_settings`` reads the section, ``settings_type`` declares the keys."""

    name = "api"
    identities = (Identity("gateway", "test"),)
    settings_type: ClassVar[type | None] = ApiSection

    @classmethod
    def parse_settings(cls, section: Mapping[str, Any]) -> Any:
        errors: list[SettingsError] = []
        api = dict(section.get("api", {}))
        if "token" not in api:
            errors.append(SettingsError("api.token", "missing"))
        if not str(api.get("url", "https://x")).startswith("https://"):
            errors.append(SettingsError("api.url", "expected an https:// URL"))
        for key in sorted(set(section) - {"api"}):
            errors.append(SettingsError(key, "unknown key"))
        for key in sorted(set(api) - {"token", "url"}):
            errors.append(SettingsError(f"api.{key}", "unknown key"))
        if errors:
            raise ExceptionGroup("api", errors)
        return ApiSettings(api.get("url", "https://x"), api["token"])

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        raise NotImplementedError


class EchoLike(ApiBackend):
    """Stands in for the echo backend: generic keys plus ``require_registration``."""

    name = "echo"
    settings_type: ClassVar[type | None] = None

    @classmethod
    def parse_settings(cls, section: Mapping[str, Any]) -> Any:
        value = section.get("require_registration", True)
        if set(section) - {"require_registration"}:
            raise SettingsError(sorted(set(section))[0], "unknown key")
        if not isinstance(value, bool):
            raise SettingsError("require_registration", "expected true or false")
        return value


BACKENDS: dict[str, type[Backend]] = {"api": ApiBackend, "echo": EchoLike}
GOOD = """
[xmpp]
admins = ["Admin@Example.org"]
allowed_domains = ["example.org"]

[database]
path = "state/t.sqlite3"

[echo]
jid = "echo.example.org"
secret = "s3cret-echo"
"""


def load(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path, env=env or {}, backends=BACKENDS)


def problems(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, env)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_good_config_and_defaults(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD)
    assert s.xmpp == XmppSettings(admins=("admin@example.org",), allowed_domains=("example.org",))
    assert s.database.synchronous == "full"
    assert s.log_level == "INFO"
    assert s.source == tmp_path / "config.toml"
    [echo] = s.components
    assert (echo.name, echo.jid, echo.secret, echo.backend) == (
        "echo",
        "echo.example.org",
        "s3cret-echo",
        EchoLike,
    )
    assert echo.backend_settings is True


def test_relative_database_path_is_resolved_against_config_dir(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD)
    assert s.database.path == tmp_path / "state" / "t.sqlite3"
    absolute = GOOD.replace("state/t.sqlite3", "/var/lib/t.sqlite3")
    assert load(tmp_path, absolute).database.path == Path("/var/lib/t.sqlite3")


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[xmpp]\nport = "abc"', 'xmpp.port: expected an integer from 1 to 65535, got "abc"'),
        ("[xmpp]\nport = 70000", "xmpp.port: expected an integer from 1 to 65535, got 70000"),
        ("[xmpp]\nport = 0", "xmpp.port: expected an integer from 1 to 65535, got 0"),
        ("[xmpp]\nport = true", "xmpp.port: expected an integer from 1 to 65535, got true"),
        ("[xmpp]\nhots = 1", "xmpp.hots: unknown key"),
        ("[xmpp]\nhost = 5", "xmpp.host: expected a string, got 5"),
        ("[xmpp]\nping_timeout = 0", "xmpp.ping_timeout: expected a number greater than 0, got 0"),
        ('[xmpp]\nadmins = "a@b.c"', 'xmpp.admins: expected a list of strings, got "a@b.c"'),
        (
            '[xmpp]\nadmins = ["ok@example.org", "example.org"]',
            'xmpp.admins[1]: expected a bare JID like admin@example.org, got "example.org"',
        ),
        (
            '[xmpp]\nadmins = ["a@example.org/res"]',
            'xmpp.admins[0]: expected a bare JID like admin@example.org, got "a@example.org/res"',
        ),
        (
            '[xmpp]\nallowed_domains = ["bad domain"]',
            "xmpp.allowed_domains[0]: expected a domain name like sms.example.org, "
            'got "bad domain"',
        ),
        (
            '[database]\nsynchronous = "off"',
            'database.synchronous: expected one of "full", "normal", got "off"',
        ),
        (
            '[logging]\nlevel = "LOUD"',
            'logging.level: expected one of "DEBUG", "INFO", '
            '"WARNING", "ERROR", "CRITICAL", got "LOUD"',
        ),
        ("[foo]\nx = 1", "foo: unknown section (installed backends: api, echo)"),
        ("stray = 1", "stray: unknown key"),
        ("xmpp = 1", "xmpp: expected a table, got 1"),
        ("[echo.x]\ny = 1", "echo.x: unknown key"),
        ("[echo]\nenabled = 'yes'", 'echo.enabled: expected true or false, got "yes"'),
        ("[echo]\nrequire_registration = 3", "echo.require_registration: expected true or false"),
    ],
)
def test_single_problem(tmp_path: Path, snippet: str, expected: str) -> None:
    # GOOD's sections come first; a table repeated below would be a TOML error, so merge.
    base = tomllib.loads(GOOD)
    extra = tomllib.loads(snippet)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key].update(value)
        else:
            base[key] = value
    assert problems(tmp_path, dump(base)) == [expected]


def dump(data: Mapping[str, Any], prefix: str = "") -> str:
    """A tiny TOML writer for the merged test documents (tables, scalars, lists)."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {toml_value(value)}")
    out = ([f"[{prefix}]"] if prefix and lines else []) + lines
    for key, value in tables:
        out.append(dump(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(out) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def test_missing_keys(tmp_path: Path) -> None:
    assert problems(tmp_path, "[echo]\n") == [
        "database.path: missing",
        "echo.jid: missing",
        "echo.secret: missing",
    ]


def test_no_backend_enabled(tmp_path: Path) -> None:
    text = '[database]\npath = "x"\n[echo]\nenabled = false\n'
    assert problems(tmp_path, text) == ["(root): no backend is enabled"]


def test_disabled_section_is_not_checked(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD + '[api]\nenabled = false\njid = "not a domain"\n')
    assert [c.name for c in s.components] == ["echo"]


def test_bad_jid_and_duplicate_jid(tmp_path: Path) -> None:
    text = GOOD + '[api]\njid = "ECHO.example.org"\nsecret = "abcd"\napi = {token = "t"}\n'
    assert problems(tmp_path, text) == ['api.jid: "echo.example.org" is already the jid of echo']
    text = GOOD.replace('"echo.example.org"', '"-echo.example.org"')
    assert problems(tmp_path, text) == [
        'echo.jid: expected a domain name like sms.example.org, got "-echo.example.org"'
    ]


def test_many_problems_listed_together(tmp_path: Path) -> None:
    text = """
[xmpp]
port = "abc"
hots = "x"
admins = ["nobody"]
[database]
[logging]
level = 3
[foo]
[echo]
jid = 5
[api]
jid = "api.example.org"
secret = "abcd"
[api.api]
url = "http://x"
colour = "red"
"""
    assert problems(tmp_path, text) == [
        'xmpp.port: expected an integer from 1 to 65535, got "abc"',
        'xmpp.admins[0]: expected a bare JID like admin@example.org, got "nobody"',
        "xmpp.hots: unknown key",
        "database.path: missing",
        'logging.level: expected one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", got 3',
        "foo: unknown section (installed backends: api, echo)",
        "echo.jid: expected a domain name like sms.example.org, got 5",
        "echo.secret: missing",
        "api.api.token: missing",
        "api.api.url: expected an https:// URL",
        "api.api.colour: unknown key",
    ]


API = GOOD + '[api]\njid = "api.example.org"\n'


def test_env_overrides_component_secret(tmp_path: Path) -> None:
    env = {"TRANSPORT_API_SECRET": "from-env", "API_TOKEN": TOKEN}
    s = load(tmp_path, API + 'secret = "from-file"\n', env)
    assert s.components[1].secret == "from-env"
    s = load(tmp_path, API, env)  # no secret in the file at all
    assert s.components[1].secret == "from-env"
    assert s.components[1].backend_settings == ApiSettings("https://x", TOKEN)


def test_env_overrides_backend_secret(tmp_path: Path) -> None:
    text = API + 'secret = "abcd"\n[api.api]\ntoken = "file-token"\n'
    assert load(tmp_path, text).components[1].backend_settings.token == "file-token"
    s = load(tmp_path, text, {"API_TOKEN": TOKEN})
    assert s.components[1].backend_settings.token == TOKEN
    assert problems(tmp_path, API + 'secret = "abcd"\n') == ["api.api.token: missing"]


def test_empty_env_value_does_not_override(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD, {"TRANSPORT_ECHO_SECRET": ""})
    assert s.components[0].secret == "s3cret-echo"


def test_secrets_never_leak(tmp_path: Path) -> None:
    class Leaky(ApiBackend):
        @classmethod
        def parse_settings(cls, section: Mapping[str, Any]) -> Any:
            raise SettingsError("api.token", f"bad token {section['api']['token']!r}")

    text = API + "secret = 12345\n"
    with pytest.raises(ConfigError) as info:
        load_settings(
            _write(tmp_path, text), env={"API_TOKEN": TOKEN}, backends={**BACKENDS, "api": Leaky}
        )
    assert info.value.problems == [
        "api.secret: expected a string",
        "api.api.token: bad token '***'",
    ]
    assert "12345" not in str(info.value) and TOKEN not in str(info.value)
    s = load(tmp_path, API, {"TRANSPORT_API_SECRET": "hunter2-secret", "API_TOKEN": TOKEN})
    assert "hunter2-secret" not in repr(s) and TOKEN not in repr(s)
    assert "hunter2-secret" not in repr(s.components[1])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_backend_bug_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    class Broken(EchoLike):
        @classmethod
        def parse_settings(cls, section: Mapping[str, Any]) -> Any:
            raise KeyError("oops")

    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, GOOD), env={}, backends={"echo": Broken})
    assert info.value.problems == ["echo: invalid settings (KeyError: 'oops')"]


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[xmpp]\nhost = "a"\nport = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, backends=BACKENDS)
    [line] = info.value.problems
    assert re.fullmatch(rf"{re.escape(str(path))}:3:\d+: invalid TOML: .+", line), line


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, backends=BACKENDS)
    assert info.value.problems == [f"{path}: cannot read: No such file or directory"]


def test_backend_that_failed_to_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = registry.LoadedBackends()
    found["api"] = ApiBackend
    found.failures["echo"] = "cannot load x:Y: ModuleNotFoundError: No module named 'y'"
    monkeypatch.setattr(registry, "load_backends", lambda: found)
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, GOOD), env={})
    assert info.value.problems == [
        "echo: backend failed to load (cannot load x:Y: ModuleNotFoundError: No module named 'y')"
    ]


def test_example_config_passes() -> None:
    s = load_settings(EXAMPLE, env={}, backends=BACKENDS)
    assert s.metrics == MetricsSettings("127.0.0.1", 9464)
    assert [(c.name, c.jid) for c in s.components] == [("echo", "echo.example.org")]
    assert s.database.path == REPO / "transport.sqlite3"


def test_example_documents_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    fields = {f.name for f in dataclasses.fields(XmppSettings)}
    assert set(data["xmpp"]) == fields
    assert set(data["database"]) == {"path", "synchronous", "retention_days"}
    assert set(data["logging"]) == {"level"}
    assert set(data["metrics"]) == {f.name for f in dataclasses.fields(MetricsSettings)}
    assert set(data["echo"]) == {"enabled", "jid", "secret", "require_registration"}
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[a-z_]+ = ", line):  # an active key: commented on it or just above
            assert "#" in line or lines[i - 1].startswith("#"), line


def test_component_settings_repr_hides_secret() -> None:
    c = ComponentSettings("echo", "e.example.org", "zzz-secret", EchoLike, ApiSettings("u", "t"))
    assert "zzz-secret" not in repr(c)


def test_metrics_section_is_optional_and_checked(tmp_path) -> None:
    base = '[database]\npath = "x.sqlite3"\n[echo]\njid = "echo.example.org"\nsecret = "s"\n'
    path = tmp_path / "c.toml"
    path.write_text(base)
    assert load_settings(path, env={}, backends=BACKENDS).metrics is None
    path.write_text(base + '[metrics]\nlisten_port = 70000\nlisten_hots = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={}, backends=BACKENDS)
    assert any(p.startswith("metrics.listen_port:") for p in caught.value.problems)
    assert any(p.startswith("metrics.listen_hots:") for p in caught.value.problems)


def test_only_the_backends_a_config_names_are_imported(tmp_path) -> None:
    """An echo-only gateway never imports the SMS backend (twilio-python: ~15 MiB idle)."""
    path = tmp_path / "c.toml"
    path.write_text('[database]\npath = "x.sqlite3"\n'
                    '[echo]\njid = "echo.example.org"\nsecret = "s"\n')
    probe = ("import sys; from transport.config import load_settings; "
             f"s = load_settings(__import__('pathlib').Path({str(path)!r}), env={{}}); "
             "print(sorted(c.name for c in s.components), "
             "'transport.backends.sms' in sys.modules, 'twilio' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "['echo'] False False"
