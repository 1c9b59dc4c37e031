"""The demo CLI: serve in a child process, text a number into it, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio_standin_support import TOKEN, USER, valid

ACCOUNT = "AC" + "f" * 32
NUMBER = "+15550007777"


async def test_serve_send_inbound_and_sigterm(receiver, tmp_path):
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN}
    env.pop("TWILIO_REGION", None)
    env.pop("TWILIO_EDGE", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "transport.testing.twilio",
        "--port",
        "0",
        "--account-sid",
        ACCOUNT,
        "--number",
        NUMBER,
        "--sms-url",
        receiver.url("/sms"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        url = line.decode().strip()
        assert url.startswith("http://127.0.0.1:")

        http = AsyncTwilioHttpClient(timeout=10)
        client = Client(ACCOUNT, TOKEN, http_client=http, environment={"X": "1"})
        client.api.base_url = url
        try:
            msg = await client.messages.create_async(to=USER, from_=NUMBER, body="hi")
            [num] = await client.incoming_phone_numbers.list_async()
        finally:
            await http.close()
        assert msg.status == "queued" and num.sms_url == receiver.url("/sms")

        picture = tmp_path / "p.png"
        picture.write_bytes(b"\x89PNG-ish")
        texter = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "transport.testing.twilio",
            "send-inbound",
            "--url",
            url,
            "--account-sid",
            ACCOUNT,
            "--to",
            NUMBER,
            "--from",
            USER,
            "--body",
            "yo",
            "--media",
            f"{picture}:image/png",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await asyncio.wait_for(texter.communicate(), 20)
        assert texter.returncode == 0, err.decode()
        assert '"status": 200' in out.decode()
        [hit] = receiver.hits
        assert (hit.form["Body"], hit.form["NumMedia"]) == ("yo", "1")
        assert valid(TOKEN, receiver.url("/sms"), hit)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert TOKEN not in (out + err).decode()


def test_help_lists_send_inbound():
    result = subprocess.run([sys.executable, "-m", "transport.testing.twilio", "--help"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0
    assert "send-inbound" in result.stdout
    assert "run a stand-in" in result.stdout
