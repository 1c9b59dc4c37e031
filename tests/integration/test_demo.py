"""The README's demo works as printed: log in, echo, SMS both ways, an IRC room."""

import asyncio
import re
import shlex
import signal
import subprocess
import sys

import aiohttp
import pytest
from demo_support import Printed, read_instructions, start_demo, stop_demo

from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register, send_chat

pytestmark = pytest.mark.slow


async def test_demo_as_printed(tmp_path):
    proc = start_demo(tmp_path / "demo")
    try:
        text = await read_instructions(proc)
        password = re.search(r"password  (\S+)", text).group(1)
        port = int(re.search(r"port (\d+) \(STARTTLS", text).group(1))
        demo = TestClient("demo@localhost/phone", password, "127.0.0.1", port)
        await demo.login()

        await register(demo, "echo.localhost", username="demo")
        send_chat(demo, "anything@echo.localhost", "ping")
        await demo.expect_message(sender="anything@echo.localhost", body="ping")

        await register(demo, "sms.localhost", phone="+12125550142")
        send_chat(demo, "+16465550199@sms.localhost", "hi phone", receipt=True)
        await demo.expect(lambda s: s.xml.find("{urn:xmpp:receipts}received") is not None,
                          timeout=15)
        command = shlex.split(re.search(r"^\s+(\S+ -m transport\.testing\.twilio .+)$", text,
                                        re.M).group(1))
        texted = await asyncio.create_subprocess_exec(*command)
        assert await texted.wait() == 0
        await demo.expect_message(sender="+16465550199@sms.localhost",
                                  body="Hello from a phone!", timeout=15)

        room = re.search(r"join the room (\S+) with any nick", text).group(1)
        demo.send_presence(pto=f"{room}/demo")
        self_presence = await demo.expect(
            lambda s: s.name == "presence" and s["from"] == f"{room}/demo"
            and s.xml.find(".//{http://jabber.org/protocol/muc#user}status[@code='110']")
            is not None, timeout=20)
        assert self_presence["type"] != "error"
        health = re.search(r"health at (\S+?)\)\.$", text, re.M).group(1)
        async with aiohttp.ClientSession() as http, http.get(health) as resp:
            assert (resp.status, await resp.json()) == (200, {"status": "ok"})
        await demo.logout()

        proc.send_signal(signal.SIGINT)
        assert await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30) == 0
    finally:
        stop_demo(proc)


async def test_a_restart_with_dir_keeps_password_ports_and_stand_in(tmp_path):
    printed = []
    for _ in range(2):
        proc = start_demo(tmp_path / "demo")
        try:
            printed.append(Printed(await read_instructions(proc)))
            proc.send_signal(signal.SIGINT)
            assert await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30) == 0
        finally:
            stop_demo(proc)
    first, second = printed
    assert (second.password, second.port, second.irc_port, second.standin_url,
            second.account_sid, second.fingerprint) == (
        first.password, first.port, first.irc_port, first.standin_url, first.account_sid,
        first.fingerprint)
    assert "an admin of the gateway" in first.text
    assert "--dir" in first.text and "--log-level" in first.text
    assert oct((tmp_path / "demo" / "demo.json").stat().st_mode & 0o777) == "0o600"


async def test_demo_with_one_chosen_backend_says_how_to_reach_it(tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text("[echo]\nrequire_registration = false\n")
    proc = start_demo(tmp_path / "demo", "--backend", "echo", "--settings", str(settings))
    try:
        text = await read_instructions(proc)
        assert "  Echo gateway (echo.localhost, the echo backend):\n" \
            "  - Chat with anything@echo.localhost: every message comes back.\n" in text
        assert "register with" not in text  # the settings file turned registration off
        assert "SMS (" not in text and "IRC (" not in text and "MMS" not in text
        password = re.search(r"password  (\S+)", text).group(1)
        port = int(re.search(r"port (\d+) \(STARTTLS", text).group(1))
        demo = TestClient("demo@localhost/phone", password, "127.0.0.1", port)
        await demo.login()
        send_chat(demo, "anything@echo.localhost", "ping")
        await demo.expect_message(sender="anything@echo.localhost", body="ping")
        await demo.logout()
        proc.send_signal(signal.SIGINT)
        assert await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30) == 0
    finally:
        stop_demo(proc)


def test_an_unknown_backend_lists_the_installed_ones(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "transport.demo", "--dir", str(tmp_path), "--backend", "nope"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert result.returncode == 2
    assert re.search(r"no backend named 'nope' is installed; installed: .*\becho\b.*\birc\b",
                     result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_settings_a_backend_refuses_are_named_and_nothing_keeps_running(tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text("[echo]\ncolour = 'blue'\n")
    result = subprocess.run(
        [sys.executable, "-m", "transport.demo", "--dir", str(tmp_path / "demo"),
         "--backend", "echo", "--settings", str(settings)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert result.returncode == 1
    assert "a backend refused its settings (give them with --settings FILE)" in result.stderr
    assert "colour: unknown key" in result.stderr
