"""Our outbound Twilio requests against Twilio's published OpenAPI description.

Prism serves ``twilio_api_v2010.json`` (npm ``@twilio/cli-core``) as a validating mock; the
gateway's real sender (``outbound.Sender`` over ``twilio_api.TwilioApi`` and twilio-python's
aiohttp client) is pointed at it through ``api_base_url``, with a recording proxy in between
so every assertion is about the bytes that went over the wire and what Prism made of them.

Prism answers a request that breaks the spec with a 4xx and lists the violations (in a
``application/problem+json`` body, or in the ``sl-violations`` header); violations located
in the *response* are about Twilio's own example data and are not ours. Prism does not
reject undeclared parameters, so each parameter we send is also looked up in the spec.
MMS cannot be validated by Prism (it refuses every ``MediaUrl``: the spec has no form
``encoding`` for the array), so its wire shape is checked against the spec file directly.

The tools come from ``scripts/bootstrap``; if they are missing this fails (never skips).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy, MultiDictProxy

from transport.backends.sms.limits import Spending
from transport.backends.sms.outbound import Sender
from transport.backends.sms.pacing import Pacer
from transport.backends.sms.settings import LimitsSettings, TwilioSettings
from transport.backends.sms.splitting import split_body, utf16_len
from transport.backends.sms.store import MIGRATIONS
from transport.backends.sms.twilio_api import TwilioApi
from transport.backends.sms.webhook import STATUS_PATH
from transport.core.errors import DeliveryRefused
from transport.core.events import Attachment, OutgoingMessage
from transport.store import Store
from transport.testing.twilio.openapi import (
    CREATE_MESSAGE,
    LIST_INCOMING_NUMBERS,
    PrismMock,
    operation,
    resolve,
)

pytestmark = pytest.mark.timeout(60)

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "contract-token"
ME = "+12125550100"
ALICE, BOB = "+12125550142", "+12125550143"
STATUS_URL = "https://sms.example.org" + STATUS_PATH
FORM = "application/x-www-form-urlencoded"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
NUMBERS = f"/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json"


# ------------------------------------------------------------------ Prism and the recorder


@pytest.fixture(scope="module")
def prism() -> Iterator[PrismMock]:
    server = PrismMock()
    try:
        server.start()
        yield server
    finally:
        server.close()


@dataclass
class Exchange:
    """One request as it went over the wire, and Prism's answer."""

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    status: int
    answer_headers: CIMultiDictProxy[str]
    answer: bytes

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)

    def field(self, name: str) -> str:
        values = [v for k, v in self.form() if k == name]
        assert len(values) == 1, (name, values)
        return values[0]

    def violations(self) -> list[dict[str, Any]]:
        """What Prism found wrong with the *request* (response-side findings dropped)."""
        found: list[dict[str, Any]] = list(json.loads(
            self.answer_headers.get("sl-violations", "[]")))
        if self.answer_headers.get("Content-Type", "").startswith("application/problem+json"):
            found += json.loads(self.answer).get("validation", [])
        return [v for v in found if v.get("location", ["?"])[0] != "response"]

    def explain(self) -> str:
        return (f"{self.method} {self.path} -> {self.status}\n"
                f"sent: {self.body[:500]!r}\nPrism: {self.answer[:1500]!r}")


class Recorder:
    """A loopback HTTP proxy in front of Prism that keeps every exchange."""

    HOP = frozenset({"host", "content-length", "transfer-encoding", "connection",
                     "accept-encoding", "keep-alive"})

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in self.HOP}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
        self.exchanges.append(Exchange(
            request.method, request.path, request.query, request.headers, body,
            answer.status, answer.headers, payload))
        keep = {k: v for k, v in answer.headers.items()
                if k.lower() in ("content-type", "www-authenticate", "sl-violations")}
        return web.Response(status=answer.status, body=payload, headers=keep)

    def only(self, method: str, path: str) -> list[Exchange]:
        return [x for x in self.exchanges if (x.method, x.path) == (method, path)]


class SentLog:
    """The sender's repository, reduced to what a send touches."""

    def __init__(self) -> None:
        self.sids: list[str] = []

    async def record_sent(self, sid: str, now: float) -> None:
        self.sids.append(sid)


@dataclass
class Gateway:
    api: TwilioApi
    sender: Sender
    wire: Recorder


@pytest.fixture
async def gw(prism: PrismMock, tmp_path) -> AsyncIterator[Gateway]:
    wire = Recorder(prism.url)
    await wire.start()
    api = TwilioApi(TwilioSettings(SID, TOKEN, numbers=(ME,), api_base_url=wire.url,
                                   messages_per_second=0))
    await api.open()
    # [sms.limits] on a real store, high enough for these texts never to reach them.
    store = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"sms": MIGRATIONS})
    spending = Spending.for_store(LimitsSettings(recipients_per_message=100,
                                                 max_segments=1000), store.backend_storage("sms"))
    try:
        yield Gateway(api, Sender(api, Pacer(0), SentLog(), STATUS_URL, spending), wire)
    finally:
        await api.close()
        await wire.stop()
        await store.close()
    for exchange in wire.exchanges:  # every request the gateway made carried the credentials
        assert exchange.headers.get("Authorization") == "Basic " + base64.b64encode(
            f"{SID}:{TOKEN}".encode()).decode(), exchange.explain()


def text(body: str, *extra: str, attachments: tuple[Attachment, ...] = (),
         stanza_id: str = "s1") -> OutgoingMessage:
    return OutgoingMessage(user="alice@localhost", sender_full_jid="alice@localhost/phone",
                           contact=ALICE, stanza_id=stanza_id, body=body,
                           attachments=attachments, extra_recipients=extra)


# ------------------------------------------------------------------ what the spec declares


def create_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """CreateMessage's form media type object and its (resolved) schema."""
    content = operation(*CREATE_MESSAGE)["requestBody"]["content"]
    assert FORM in content, f"the spec's CreateMessage no longer takes {FORM}"
    return content[FORM], resolve(content[FORM]["schema"])


def assert_declared_create(exchange: Exchange) -> None:
    """Every form field we sent is a declared CreateMessage property; required ones present."""
    _, schema = create_schema()
    names = [k for k, _ in exchange.form()]
    undeclared = sorted(set(names) - set(schema["properties"]))
    assert not undeclared, f"not in the spec's CreateMessage: {undeclared}"
    assert set(schema.get("required", ())) <= set(names)
    assert exchange.headers.get("Content-Type", "").split(";")[0] == FORM


def assert_accepted(exchange: Exchange, status: int) -> None:
    assert exchange.status == status, exchange.explain()
    assert exchange.violations() == [], exchange.explain()


# ------------------------------------------------------------------ texts


async def test_a_text_with_its_status_callback_is_a_valid_create_message(gw: Gateway) -> None:
    outcome = await gw.sender.send(text("Hello from XMPP ✓ 👋"), ME)

    [create] = gw.wire.exchanges
    assert (create.method, create.path) == ("POST", MESSAGES)
    assert_accepted(create, 201)
    assert_declared_create(create)
    assert dict(create.form()) == {"To": ALICE, "From": ME, "Body": "Hello from XMPP ✓ 👋",
                                   "StatusCallback": STATUS_URL}
    assert outcome.legacy_ids == (json.loads(create.answer)["sid"],)


async def test_a_long_body_goes_out_as_ordered_parts_each_a_valid_create(gw: Gateway) -> None:
    body = " ".join(f"word{i}🙂" for i in range(700))  # ~6,300 UTF-16 units
    expected = split_body(body)
    assert len(expected) >= 3

    outcome = await gw.sender.send(text(body), ME)

    creates = gw.wire.only("POST", MESSAGES)
    assert len(creates) == len(expected) == len(gw.wire.exchanges)
    for create in creates:
        assert_accepted(create, 201)
        assert_declared_create(create)
        assert create.field("StatusCallback") == STATUS_URL
        assert utf16_len(create.field("Body")) <= 1600
    assert [c.field("Body") for c in creates] == expected
    assert "".join(c.field("Body") for c in creates) == body
    assert len(outcome.legacy_ids) == len(expected)


async def test_a_group_text_is_one_valid_create_per_recipient(gw: Gateway) -> None:
    await gw.sender.send(text("Dinner at 8?", BOB), ME)

    creates = gw.wire.only("POST", MESSAGES)
    assert [c.field("To") for c in creates] == [ALICE, BOB]
    for create in creates:
        assert_accepted(create, 201)
        assert_declared_create(create)
        assert (create.field("From"), create.field("Body")) == (ME, "Dinner at 8?")


# ------------------------------------------------------------------ number ownership


async def test_ownership_checks_are_valid_incoming_phone_number_listings(gw: Gateway) -> None:
    owned = await gw.api.owns_number(ME)
    everything = await gw.api.owned_numbers()

    assert isinstance(owned, bool)
    assert everything  # Prism's example page: parsed, not an error
    listings = gw.wire.only("GET", NUMBERS)
    assert len(listings) == len(gw.wire.exchanges) >= 2
    declared = {p["name"] for p in map(resolve, operation(*LIST_INCOMING_NUMBERS)["parameters"])
                if p["in"] == "query"}
    for listing in listings:
        assert_accepted(listing, 200)
        assert set(listing.query) <= declared, listing.explain()
    assert listings[0].query.getall("PhoneNumber") == [ME]


# ------------------------------------------------------------------ MMS


async def test_an_mms_sends_media_urls_as_the_specs_uri_array(gw: Gateway) -> None:
    """Prism refuses any MediaUrl; check the wire form against the spec file instead."""
    urls = ["https://upload.example.org/a1/photo.jpg",
            "https://upload.example.org/b2/clip%20one.mp4?sig=x%2By"]
    attachments = tuple(Attachment(url, "image/jpeg") for url in urls)
    with contextlib.suppress(DeliveryRefused):  # Prism's 422, judged below
        await gw.sender.send(text("Two from today", attachments=attachments), ME)

    [create] = gw.wire.exchanges
    assert create.path == MESSAGES
    assert_declared_create(create)
    # Prism's only complaint may be the array it cannot decode from a form.
    assert all(v["location"] == ["body", "MediaUrl"] and v["code"] == "type"
               for v in create.violations()), create.explain()

    media_type, schema = create_schema()
    media = resolve(schema["properties"]["MediaUrl"])
    assert media["type"] == "array"
    items = resolve(media["items"])
    assert (items["type"], items["format"]) == ("string", "uri")
    # No encoding object means the OpenAPI 3.0 default for forms: style=form, explode=true,
    # i.e. one "MediaUrl=<uri>" pair per item (no "MediaUrl[0]", no comma-joined list).
    encoding = media_type.get("encoding", {}).get("MediaUrl", {})
    assert encoding.get("style", "form") == "form" and encoding.get("explode", True)

    assert [k for k, _ in create.form()].count("MediaUrl") == len(urls)
    assert [v for k, v in create.form() if k == "MediaUrl"] == urls
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.netloc  # an absolute URI
    assert "MediaUrl" in create.body.decode() and "MediaUrl%5B" not in create.body.decode()
    assert create.field("Body") == "Two from today"
    assert create.field("StatusCallback") == STATUS_URL
    max_items = media.get("maxItems")
    assert max_items is None or len(urls) <= max_items


# ------------------------------------------------------------------ the mock is really checking


async def test_the_mock_refuses_what_the_spec_forbids(prism: PrismMock) -> None:
    """Controls: without these, 2xx above would prove nothing."""
    good = {"To": ALICE, "From": ME, "Body": "hi", "StatusCallback": STATUS_URL}
    auth = {"Authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()}
    wire = Recorder(prism.url)
    await wire.start()
    try:
        async with aiohttp.ClientSession() as http:
            for headers, form in ((auth, good),  # accepted
                                  ({}, good),  # no Basic auth
                                  (auth, {k: v for k, v in good.items() if k != "To"}),
                                  (auth, {**good, "StatusCallback": "not a uri"})):
                async with http.post(wire.url + MESSAGES, data=form, headers=headers) as r:
                    await r.read()
    finally:
        await wire.stop()

    ok, anonymous, no_to, bad_callback = wire.exchanges
    assert_accepted(ok, 201)
    assert anonymous.status == 401
    assert "Basic" in anonymous.answer_headers.get("WWW-Authenticate", "")
    for refused, field in ((no_to, "To"), (bad_callback, "StatusCallback")):
        assert refused.status == 422, refused.explain()
        assert any(field in v["message"] for v in refused.violations()), refused.explain()
