"""At DEBUG the gateway logs every stanza, yet no password or configured secret reaches the log.

A real ``python -m transport run`` with the echo, IRC and SMS components on a real Prosody;
real clients submit the IRC configure form with passwords, register with a password, text
through the Twilio stand-in and quote the Twilio auth token in a chat message.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from slixmpp.exceptions import IqError
from test_sms_support import ACCOUNT, CONTACT, POOL, PUBLIC, TOKEN

from transport.testing.gateway import GatewayProcess
from transport.testing.servers.ports import free_port
from transport.testing.xmpp_steps import register, run_command, send_chat

pytest_plugins = ("test_sms_support",)
pytestmark = pytest.mark.slow

ECHO, IRC, SMS = "echo.localhost", "irc.localhost", "sms.localhost"
SECRETS = ("echo-secret", "irc-secret", "sms-secret")
IRC_SERVER = f"irc.example.org@{IRC}"
SERVER_PASSWORD, SASL_PASSWORD, REGISTRATION_PASSWORD = "hunter2-pw", "sesame-pw", "r3g-pw-42"

CONFIG = """
[xmpp]
host = "127.0.0.1"
port = {component_port}
reconnect_max_delay = 1.0
allowed_domains = ["localhost"]

[database]
path = "{db}"

[echo]
jid = "{echo}"
secret = "echo-secret"

[irc]
jid = "{irc}"
secret = "irc-secret"

[irc.servers."irc.example.org"]
port = 6667
tls = false

[sms]
jid = "{sms}"
secret = "sms-secret"
registration = "open"

[sms.twilio]
account_sid = "{account}"
auth_token = "{token}"
numbers = ["{number}"]
api_base_url = "{api}"
messages_per_second = 0

[sms.webhook]
listen_host = "127.0.0.1"
listen_port = {webhook_port}
public_url = "{public}"
"""


async def submit_irc_configure(client) -> None:
    done = await run_command(client, IRC_SERVER, "configure", {
        "nick": "alice_", "pass": SERVER_PASSWORD, "sasl_password": SASL_PASSWORD})
    assert done["command"]["status"] == "completed"


async def test_debug_logs_keep_the_stanzas_but_not_the_secrets(
    prosody, standin, users, tmp_path
):
    config = tmp_path / "gw.toml"
    config.write_text(CONFIG.format(
        component_port=prosody.component_port, db=tmp_path / "gw.sqlite3", echo=ECHO,
        irc=IRC, sms=SMS, account=ACCOUNT, token=TOKEN, number=POOL[0], api=standin.url,
        webhook_port=free_port(), public=PUBLIC))
    proc = GatewayProcess(config, tmp_path / "gw.log", log_level="DEBUG")
    proc.start()
    try:
        alice = await users()
        for _ in range(200):
            with contextlib.suppress(IqError, TimeoutError):
                await register(alice, SMS, phone=POOL[0])
                break
            await asyncio.sleep(0.05)
        with contextlib.suppress(IqError):
            await register(alice, ECHO, username="alice", password=REGISTRATION_PASSWORD)
        await submit_irc_configure(alice)
        send_chat(alice, f"bob@{ECHO}", f"the token is {TOKEN}")
        await alice.expect_message(sender=f"bob@{ECHO}")
        send_chat(alice, f"{CONTACT}@{SMS}", "hello phone")
        for _ in range(200):
            if standin.sent_messages:
                break
            await asyncio.sleep(0.05)
        assert [m.body for m in standin.sent_messages] == ["hello phone"]
        code = await asyncio.get_running_loop().run_in_executor(None, proc.terminate)
        assert code == 0
    finally:
        proc.kill()
    log = proc.log_text()
    for secret in (SERVER_PASSWORD, SASL_PASSWORD, REGISTRATION_PASSWORD, TOKEN, *SECRETS):
        assert secret not in log, f"{secret} leaked"
    assert 'var="nick"' in log and "<value>alice_</value>" in log, "the form is still logged"
    assert 'var="pass"><value>****</value>' in log
    assert "<username>alice</username>" in log and "<password>****</password>" in log
    assert "the token is ****" in log
    assert ">****</handshake>" in log
