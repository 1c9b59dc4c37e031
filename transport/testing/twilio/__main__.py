"""CLI for the demo: run a stand-in, or text a number of a running one.

    python -m transport.testing.twilio --port 0 --account-sid AC... --auth-token T \\
        --number +15550001111 [--sms-url http://127.0.0.1:8080/twilio/sms]
    python -m transport.testing.twilio send-inbound --url http://127.0.0.1:PORT \\
        --account-sid AC... --auth-token T --to +15550001111 --from +15550002222 \\
        --body hello [--media photo.jpg:image/jpeg]

The first prints the base URL as its first stdout line and runs until SIGTERM/SIGINT.
The auth token may come from ``TWILIO_AUTH_TOKEN`` instead of the command line (keeps
it out of ``ps``); it is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from .standin import TwilioStandIn


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"))
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))


COMMANDS = """commands:
  [serve]        run a stand-in (the default): prints its base URL, runs until Ctrl-C
  send-inbound   text one of a running stand-in's numbers, as a phone would
                 (python -m transport.testing.twilio send-inbound --help)
"""


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m transport.testing.twilio [serve]",
        description="A local stand-in for Twilio's Messaging API, for tests and the demo.",
        epilog=COMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--number", action="append", default=[], help="E.164, repeatable")
    p.add_argument("--sms-url", default="", help="inbound webhook for every --number")
    p.add_argument("--media-redirect", action="store_true")
    return p


def inbound_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m transport.testing.twilio send-inbound",
        description="Text a number of a running stand-in: it posts the signed webhook.")
    _common(p)
    p.add_argument("--url", required=True, help="base URL printed by the serving stand-in")
    p.add_argument("--to", required=True)
    p.add_argument("--from", dest="from_", required=True)
    p.add_argument("--body", default="")
    p.add_argument("--media", action="append", default=[], help="FILE:content/type")
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--sign-url", default=None)
    return p


def _require_credentials(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.account_sid or not args.auth_token:
        parser.error("--account-sid and --auth-token (or TWILIO_* env) are required")


async def serve(args: argparse.Namespace) -> None:
    standin = TwilioStandIn(
        {args.account_sid: args.auth_token},
        {args.account_sid: args.number},
        host=args.host,
        port=args.port,
        media_redirect=args.media_redirect,
    )
    await standin.start()
    if args.sms_url:
        for number in args.number:
            standin.set_sms_url(number, args.sms_url)
    print(standin.url, flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        await standin.stop()


def _media_items(specs: list[str]) -> list[dict[str, str]]:
    items = []
    for spec in specs:
        path, _, ctype = spec.rpartition(":")
        data = Path(path).read_bytes()
        items.append({"content_type": ctype, "data_base64": base64.b64encode(data).decode()})
    return items


async def text(args: argparse.Namespace) -> int:
    doc = {
        "to": args.to,
        "from": args.from_,
        "body": args.body,
        "media": _media_items(args.media),
        "webhook_url": args.webhook_url,
        "sign_url": args.sign_url,
    }
    basic = base64.b64encode(f"{args.account_sid}:{args.auth_token}".encode()).decode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            args.url.rstrip("/") + "/_standin/inbound",
            json=doc,
            headers={"Authorization": f"Basic {basic}"},
        ) as resp,
    ):
        result = await resp.json()
    print(json.dumps(result), flush=True)
    return 0 if resp.status == 200 and result.get("status") in range(200, 300) else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["send-inbound"]:
        parser = inbound_parser()
        args = parser.parse_args(argv[1:])
        _require_credentials(parser, args)
        return asyncio.run(text(args))
    parser = serve_parser()
    args = parser.parse_args(argv[1:] if argv[:1] == ["serve"] else argv)
    _require_credentials(parser, args)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
