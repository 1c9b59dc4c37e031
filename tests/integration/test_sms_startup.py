"""Start-up causes the admin must fix end ``run`` with one line naming the config key."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from transport.testing.servers.ports import free_port

SID = "AC" + "0123456789abcdef" * 2


def config(tmp_path: Path, webhook_port: int) -> Path:
    path = tmp_path / "gw.toml"
    path.write_text(f"""
[xmpp]
host = "127.0.0.1"
port = {free_port()}
allowed_domains = ["localhost"]
[database]
path = "gw.sqlite3"
[sms]
jid = "sms.localhost"
secret = "sms-secret"
registration = "open"
[sms.twilio]
account_sid = "{SID}"
auth_token = "tok-value"
api_base_url = "http://127.0.0.1:{free_port()}"
[sms.webhook]
listen_host = "127.0.0.1"
listen_port = {webhook_port}
public_url = "https://gw.example.org"
""")
    return path


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_a_busy_webhook_port_is_one_line_and_exit_1(tmp_path, level):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "transport", "run", "--config", str(config(tmp_path, port)),
             "--log-level", level],
            capture_output=True, text=True, timeout=60, check=False,
        )
    expected = f"cannot start: sms.webhook.listen_port: 127.0.0.1:{port} is already in use"
    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert [line for line in lines if "listen_port" in line] == [expected]
    assert lines[-1] == expected
    if level == "WARNING":
        assert lines == [expected], "nothing else to say at WARNING"
