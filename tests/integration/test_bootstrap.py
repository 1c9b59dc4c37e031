"""scripts/bootstrap: the demo's set-up needs no Node.js and installs only the demo's servers."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_TOOLS = {"node", "nodejs", "npm", "npx"}
NOT_FOR_THE_DEMO = {"ejabberd", "inspircd", "biboumi", "nodejs", "npm", "prosody-modules",
                    "go-sendxmpp", "profanity", "mcabber", "chromium"}


def path_without_node(tmp_path: Path, fakes: dict[str, str] | None = None) -> str:
    """A PATH of links to every system tool but Node's, with ``fakes`` (name -> script) first."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for directory in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                      "/bin"):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = tools / entry.name
            if entry.name in NODE_TOOLS or link.exists() or link.is_symlink():
                continue
            link.symlink_to(entry.path)
    for name, script in (fakes or {}).items():
        link = tools / name
        if link.is_symlink():
            link.unlink()
        link.write_text(script)
        link.chmod(0o755)
    return str(tools)


def run_bootstrap(path: str, *args: str, extra_env: dict[str, str] | None = None):
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), **(extra_env or {})}
    return subprocess.run(["bash", "scripts/bootstrap", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300, check=False)


def test_demo_setup_succeeds_without_node(tmp_path):
    path = path_without_node(tmp_path)
    assert subprocess.run(["bash", "-c", "command -v node npm"], env={"PATH": path},
                          check=False, capture_output=True).returncode != 0
    result = run_bootstrap(path, "--demo")
    assert result.returncode == 0, result.stderr
    assert "ready (demo)" in result.stderr
    assert "node" not in result.stderr.replace("ready (demo)", "")


@pytest.mark.parametrize(("mode", "wanted", "unwanted"), [
    ("--demo", {"prosody", "ngircd", "openssl", "python3-venv"}, NOT_FOR_THE_DEMO),
    ("", {"prosody", "ngircd", "ejabberd", "inspircd", "go-sendxmpp", "profanity", "nodejs",
          "npm"}, set()),
])
def test_packages_each_command_installs(tmp_path, mode, wanted, unwanted):
    """With every package reported missing, the demo asks apt for its servers only; the
    test set-up asks for the rest too, Node.js included when node is not on PATH."""
    record = tmp_path / "apt-get.args"
    fakes = {
        "dpkg": "#!/bin/sh\nexit 1\n",  # every package missing
        "apt-get": f'#!/bin/sh\necho "$@" >> {record}\n',
    }
    path = path_without_node(tmp_path, fakes)
    result = run_bootstrap(path, *([mode] if mode else []),
                           extra_env={"BOOTSTRAP_POLICY_RC": str(tmp_path / "policy-rc.d")})
    calls = [line.split() for line in record.read_text().splitlines()]
    installs = [words for words in calls if "install" in words]
    assert len(installs) == 1, result.stderr
    asked = {word for word in installs[0] if not word.startswith("-") and "=" not in word}
    assert wanted <= asked
    assert not asked & unwanted
    assert not (tmp_path / "policy-rc.d").exists()  # removed again after the install
    if mode:
        assert result.returncode == 0, result.stderr
