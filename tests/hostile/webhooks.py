"""Seeded bad requests for the SMS webhook server, written as raw HTTP/1.1 bytes.

Raw bytes, because a client library normalises what an attacker would not (content types,
lengths, encodings). Every request is refused with a 4xx, except replays of the one valid
inbound text, which are answered 200 and delivered once.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from transport.testing.twilio import compute_signature

from .gateway import ACCOUNT, CONTACT, POOL, PUBLIC, TOKEN

FORM = "application/x-www-form-urlencoded"
Params = list[tuple[str, str]]


@dataclass(frozen=True)
class BadRequest:
    """One request: ``kind`` names the attack; ``replay`` ones expect 200, others a 4xx."""

    kind: str
    raw: bytes

    @property
    def replay(self) -> bool:
        return self.kind == "replay"


def new_sid(rng: random.Random, prefix: str = "SM") -> str:
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def inbound(sid: str, body: str = "hi", **changes: str | None) -> Params:
    """A valid inbound form; ``changes`` replace fields (``None`` removes one)."""
    params = {"MessageSid": sid, "AccountSid": ACCOUNT, "From": CONTACT, "To": POOL[0],
              "Body": body, "NumMedia": "0"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return list(params.items())


def sign(params: Sequence[tuple[str, str]], path: str, token: str = TOKEN,
         base: str = PUBLIC) -> str:
    return compute_signature(token, base + path, list(params))


def http_request(host: str, method: str, path: str, body: bytes = b"",
                 headers: Sequence[tuple[str, str]] = (), length: int | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers]
    if body or method == "POST":
        head.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def signed_post(host: str, path: str, params: Params, content_type: str = FORM) -> bytes:
    return http_request(host, "POST", path, urlencode(params).encode(),
                        [("Content-Type", content_type),
                         ("X-Twilio-Signature", sign(params, path))])


class Generator:
    """Draws the bad requests of each kind from one seeded random source."""

    def __init__(self, rng: random.Random, host: str, valid: Params) -> None:
        self.rng = rng
        self.host = host
        self.valid = valid

    def forged(self) -> bytes:
        rng = self.rng
        params = inbound(new_sid(rng), body=f"forged {rng.random()}")
        path = "/twilio/sms"
        signature = rng.choice([
            "", "x", secrets.token_urlsafe(20), sign(params, path, token="0" * 32),
            sign(params, path, base="http://127.0.0.1:1"), sign(params, "/twilio/status"),
            sign(inbound(new_sid(rng)), path), sign(params, path) + "=", sign(params, path)[::-1],
            "A" * 10_000,
        ])
        headers = [("Content-Type", FORM)]
        if signature or rng.random() < 0.5:
            headers.append(("X-Twilio-Signature", signature))
        if rng.random() < 0.2:
            params = [(k, v + "!" if k == "Body" else v) for k, v in params]
        return http_request(self.host, "POST", rng.choice([path, "/twilio/status"]),
                            urlencode(params).encode(), headers)

    def oversized(self) -> bytes:
        size = self.rng.choice([70_000, 200_000, 1_100_000, 3_000_000])
        params = inbound(new_sid(self.rng), body="x" * size)
        return signed_post(self.host, "/twilio/sms", params)

    def wrong_content_type(self) -> bytes:
        params = inbound(new_sid(self.rng), body="typed wrong")
        content_type = self.rng.choice([
            "application/json", "text/plain", "multipart/form-data; boundary=x", "text/xml",
            f"{FORM}; charset=latin-1", f"{FORM}; charset=utf-16", "", "x/" + "y" * 3000,
        ])
        headers = [("X-Twilio-Signature", sign(params, "/twilio/sms"))]
        if content_type:
            headers.append(("Content-Type", content_type))
        return http_request(self.host, "POST", "/twilio/sms", urlencode(params).encode(), headers)

    def wrong_field_types(self) -> bytes:
        """Signed as Twilio would, but with a field no real webhook carries.

        Not here: a ``From`` that is no number (the gateway reads it as an alphanumeric
        sender, on purpose) and a ``To`` outside the pool (not ours: acknowledged, ignored);
        a media URL that cannot be fetched (delivered as a visible notice).
        """
        rng = self.rng
        sid = new_sid(rng)
        change = rng.choice([
            {"MessageSid": rng.choice(["", "SM", "SM123", "MM" + "g" * 32, "x" * 5000,
                                       "SM" + "0" * 31, "SM" + "0" * 33])},
            {"MessageSid": None},
            {"From": ""},
            {"From": None},
            {"To": ""},
            {"To": None},
            {"NumMedia": rng.choice(["lots", "-1", "11", "1e3", "", "0x1", "1.5", "9" * 50])},
            {"NumMedia": "2", "MediaUrl0": "https://api.twilio.com/x"},
            {"NumMedia": "1", "MediaUrl0": rng.choice(["", "http://[::1", "https://[x]/m"]),
             "MediaContentType0": "image/png"},
            {"AccountSid": rng.choice(["AC" + "f" * 32, "", "AC", "x" * 600])},
            {"AccountSid": None},
        ])
        return signed_post(self.host, "/twilio/sms", inbound(sid, "wrong types", **change))

    def unknown_status(self) -> bytes:
        rng = self.rng
        params = [("AccountSid", ACCOUNT), ("MessageSid", new_sid(rng)),
                  ("MessageStatus", rng.choice(["delivered", "failed", "sent", "undelivered",
                                                "exploded", "", "read"])),
                  ("From", POOL[0]), ("To", CONTACT)]
        if rng.random() < 0.3:
            params.append(("ErrorCode", rng.choice(["30008", "abc", "-1", "9" * 30])))
        if rng.random() < 0.1:
            params = params[:2]
        return signed_post(self.host, "/twilio/status", params)

    def many_fields(self) -> bytes:
        rng = self.rng
        count = rng.choice([1_000, 5_000, 20_000])
        params = inbound(new_sid(rng), body="many") + [(f"f{i}", "1") for i in range(count)]
        path = "/twilio/sms"
        return http_request(self.host, "POST", path, urlencode(params).encode(),
                            [("Content-Type", FORM), ("X-Twilio-Signature", "forged")])

    def media(self) -> bytes:
        rng = self.rng
        path = rng.choice([
            "/media/", "/media/..", "/media/../gw.sqlite3", "/media/%2e%2e/gw.sqlite3",
            "/media/..%2fgw.sqlite3", "/media/%00", "/media/" + "A" * 32 + ".png",
            "/media/" + "a" * 5000, "/media//etc/passwd", "/media/%2fetc%2fpasswd",
            "/media/" + quote("\u202e.png"), "/media/x?" + "q=1&" * 500, "/gw.sqlite3",
            "/media/..\\..\\gw.sqlite3", "/media/" + secrets.token_hex(16) + ".jpg",
        ])
        return http_request(self.host, rng.choice(["GET", "GET", "HEAD"]), path)

    def wrong_method(self) -> bytes:
        rng = self.rng
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"])
        path = rng.choice(["/twilio/sms", "/twilio/status"])
        return http_request(self.host, method, path)

    def malformed_http(self) -> bytes:
        rng = self.rng
        good = signed_post(self.host, "/twilio/sms", inbound(new_sid(rng), "malformed"))
        head, _, body = good.partition(b"\r\n\r\n")
        return rng.choice([
            head.replace(b"Content-Length: ", b"Content-Length: -") + b"\r\n\r\n" + body,
            head.replace(b"HTTP/1.1", b"HTTP/9.9") + b"\r\n\r\n" + body,
            head + b"\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n" + body,
            head + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
            b"POST /twilio/sms HTTP/1.1\r\nHost: " + self.host.encode()
            + b"\r\nTransfer-Encoding: chunked\r\nContent-Type: " + FORM.encode()
            + b"\r\nConnection: close\r\n\r\nzz\r\nBody=x\r\n0\r\n\r\n",
        ])

    def batch(self, total: int, replays: int) -> list[BadRequest]:
        """``total`` requests in a seeded order, ``replays`` of them replays of the valid one."""
        kinds = {"forged": 0.26, "oversized": 0.04, "wrong content type": 0.1,
                 "wrong field types": 0.22, "unknown sid": 0.12, "many fields": 0.03,
                 "media": 0.1, "wrong method": 0.06, "malformed http": 0.07}
        makers = {"forged": self.forged, "oversized": self.oversized,
                  "wrong content type": self.wrong_content_type,
                  "wrong field types": self.wrong_field_types,
                  "unknown sid": self.unknown_status, "many fields": self.many_fields,
                  "media": self.media, "wrong method": self.wrong_method,
                  "malformed http": self.malformed_http}
        names = list(kinds)
        drawn = self.rng.choices(names, weights=[kinds[n] for n in names], k=total - replays)
        out = [BadRequest(kind, makers[kind]()) for kind in drawn]
        replay = signed_post(self.host, "/twilio/sms", self.valid)
        out += [BadRequest("replay", replay) for _ in range(replays)]
        self.rng.shuffle(out)
        return out


@dataclass
class Answer:
    status: int | None
    error: str = ""


async def send_raw(host: str, port: int, request: bytes, chunk_delay: float = 0.0,
                   chunk: int = 0, timeout: float = 15.0) -> Answer:
    """Write ``request`` (trickled in ``chunk``-byte pieces if ``chunk_delay``) and read the
    status line while writing, so an early answer (413) is seen even if the rest is refused."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        return Answer(None, f"connect: {error}")

    async def write() -> None:
        try:
            if not chunk_delay:
                writer.write(request)
                await writer.drain()
                return
            for start in range(0, len(request), chunk):
                writer.write(request[start:start + chunk])
                await writer.drain()
                await asyncio.sleep(chunk_delay)
        except (ConnectionError, OSError):
            pass

    writing = asyncio.ensure_future(write())
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (TimeoutError, ConnectionError, OSError) as error:
        return Answer(None, f"no status line: {type(error).__name__}")
    finally:
        writing.cancel()
        writer.close()
    words = line.split()
    if len(words) < 2 or not words[1].isdigit():
        return Answer(None, f"no status line: {line[:60]!r}")
    return Answer(int(words[1]))
