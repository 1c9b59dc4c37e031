"""Real XMPP clients against the demo, as a person would use them.

go-sendxmpp logs in over STARTTLS, trusting the demo's self-signed certificate, texts a phone
through the gateway, hears back, and sends a picture by HTTP upload that reaches the Twilio
stand-in as MMS; profanity, driven in tmux, joins the demo's IRC room and shows a line an IRC
user says there.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shlex
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from demo_support import Printed, read_instructions, start_demo, stop_demo

from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import run_command, submit_command

pytestmark = pytest.mark.slow

FRIEND = "+16465550199"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def demo(tmp_path):
    proc = start_demo(tmp_path / "demo")
    try:
        yield Printed(await read_instructions(proc))
    finally:
        stop_demo(proc)


def go_sendxmpp(printed: Printed, *args: str, stdin: str | None = None,
                timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """go-sendxmpp exactly as the demo tells a person to run it."""
    return subprocess.run(
        ["go-sendxmpp", "-u", "demo@localhost", "-p", printed.password,
         "-j", f"127.0.0.1:{printed.port}", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "SSL_CERT_FILE": printed.cert, "HOME": str(Path(printed.cert).parent)},
    )


def standin_messages(printed: Printed, to: str) -> list[dict]:
    """The stand-in's record of messages sent to ``to``, through its REST API."""
    auth = base64.b64encode(f"{printed.account_sid}:{printed.auth_token}".encode()).decode()
    url = (f"{printed.standin_url}/2010-04-01/Accounts/{printed.account_sid}/Messages.json"
           f"?To={to.replace('+', '%2B')}")
    with urlopen(Request(url, headers={"Authorization": f"Basic {auth}"}), timeout=10) as resp:
        return list(json.load(resp)["messages"])


async def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.2)


async def register_number(printed: Printed) -> None:
    """Registration as a client without an XEP-0077 dialog does it: the ``register`` ad-hoc
    command on the SMS component, its form filled in and submitted."""
    client = TestClient("demo@localhost/setup", printed.password, "127.0.0.1", printed.port)
    await client.login()
    try:
        first = await run_command(client, "sms.localhost", "register")
        assert "phone" in first["command"]["form"].get_fields()
        done = await submit_command(client, "sms.localhost", "register",
                                    first["command"]["sessionid"], {"phone": "+12125550142"})
        assert done["command"]["notes"] == [
            ("info", "You are registered with sms.localhost as +12125550142.")]
    finally:
        await client.logout()


async def test_go_sendxmpp_over_starttls_texts_a_phone_and_sends_a_picture(demo, tmp_path):
    await register_number(demo)

    sent = await asyncio.to_thread(go_sendxmpp, demo, f"{FRIEND}@sms.localhost",
                                   stdin="hello from go-sendxmpp\n")
    assert sent.returncode == 0, sent.stderr
    [message] = await wait_for(lambda: standin_messages(demo, FRIEND))
    assert message["body"] == "hello from go-sendxmpp"
    assert message["from"] == "+12125550142"

    listener = subprocess.Popen(
        ["go-sendxmpp", "-l", "-u", "demo@localhost", "-p", demo.password,
         "-j", f"127.0.0.1:{demo.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "SSL_CERT_FILE": demo.cert},
    )
    try:
        await asyncio.sleep(2)  # logged in and listening
        texted = await asyncio.create_subprocess_exec(*shlex.split(demo.text_command))
        assert await texted.wait() == 0
        heard = await asyncio.to_thread(read_until, listener, "Hello from a phone!", 20)
        assert f"{FRIEND}@sms.localhost" in heard
    finally:
        listener.kill()
        listener.wait(10)

    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG)
    uploaded = await asyncio.to_thread(go_sendxmpp, demo, "-h", str(picture),
                                       f"{FRIEND}@sms.localhost")
    assert uploaded.returncode == 0, uploaded.stderr
    mms = await wait_for(lambda: [m for m in standin_messages(demo, FRIEND)
                                  if m["num_media"] not in ("0", 0)])
    [media_message] = mms
    assert media_message["from"] == "+12125550142"


def read_until(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    """Lines of ``proc``'s output until one contains ``needle``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            time.sleep(0.1)
            continue
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} never arrived; got {''.join(seen)!r}")


class Tmux:
    """One tmux server of our own (its own socket), for one full-screen program."""

    def __init__(self, workdir: Path) -> None:
        self.socket = str(workdir / "tmux.sock")
        self.workdir = workdir

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                                text=True, timeout=10, check=True)
        return result.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.run("new-session", "-d", "-s", "main", "-x", "160", "-y", "45",
                 f"env {exports} {command}")

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "main", "-l", "--", text)
        self.run("send-keys", "-t", "main", "Enter")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    async def wait_for_text(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = await asyncio.to_thread(self.screen)
            if text in screen:
                return screen
            if time.monotonic() >= deadline:
                raise AssertionError(f"{text!r} not on screen:\n{screen}")
            await asyncio.sleep(0.3)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)


def irc_user_says(port: int, channel: str, nick: str, line: str) -> None:
    """A plain IRC client joins ``channel`` and says ``line``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as irc:
        irc.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
        received = b""
        while b" 001 " not in received:
            received += irc.recv(4096)
        irc.sendall(f"JOIN {channel}\r\n".encode())
        while b" 366 " not in received:  # end of NAMES: joined
            received += irc.recv(4096)
        irc.sendall(f"PRIVMSG {channel} :{line}\r\nQUIT :bye\r\n".encode())
        while irc.recv(4096):
            pass


async def test_profanity_joins_an_irc_room_and_sees_a_line(demo, tmp_path):
    assert shutil.which("profanity") and shutil.which("tmux")
    home = tmp_path / "home"
    home.mkdir()
    tmux = Tmux(tmp_path)
    try:
        tmux.start("profanity", {"HOME": str(home), "TERM": "xterm-256color"})
        await tmux.wait_for_text("Profanity")
        tmux.type(f"/connect demo@localhost server 127.0.0.1 port {demo.port} tls trust")
        await tmux.wait_for_text("password")
        tmux.type(demo.password)
        await tmux.wait_for_text("[online]")
        tmux.type(f"/join {demo.room} nick xmppalice")
        await tmux.wait_for_text("You have joined the room as xmppalice")
        line = f"hello profanity {uuid.uuid4().hex[:6]}"
        await asyncio.to_thread(irc_user_says, demo.irc_port, "#demo", "ircbob", line)
        screen = await tmux.wait_for_text(line)
        assert "ircbob" in screen
    finally:
        tmux.close()


async def test_mcabber_logs_in_with_the_printed_settings(demo, tmp_path):
    """The mcabberrc lines the demo prints, as a person would paste them, and the password."""
    home = tmp_path / "home"
    config = home / ".mcabber"
    config.mkdir(parents=True, mode=0o700)
    start = demo.text.index("mcabber (~/.mcabber/mcabberrc):")
    lines = [line.strip() for line in demo.text[start:].splitlines()[1:]
             if line.strip().startswith("set ")]
    rc = config / "mcabberrc"
    rc.write_text("\n".join([*lines, f"set password = {demo.password}"]) + "\n")
    rc.chmod(0o600)
    tmux = Tmux(tmp_path)
    try:
        tmux.start("mcabber", {"HOME": str(home), "TERM": "xterm-256color"})
        await tmux.wait_for_text("{o} demo@localhost")  # online, in the roster window
        screen = await tmux.wait_for_text("Remote fingerprint")
        pinned = "SHA256:" + demo.fingerprint.replace(":", "").lower()
        assert pinned in "".join(screen.split()), "the pinned certificate was the one served"
    finally:
        tmux.close()
