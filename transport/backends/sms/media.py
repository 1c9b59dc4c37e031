"""Inbound MMS media: fetched from Twilio with the account's credentials, served by us.

Twilio's media URLs need the account's credentials, so handing them to XMPP clients would
either fail or leak the credentials. Each item is downloaded (redirects followed, the
credentials sent to the Twilio API origin only), checked (size limit, a content type that
agrees with what the signed webhook declared), written durably under a name derived from
a secret key, the MessageSid and the item's index (unguessable, yet stable, so a retried
webhook rewrites the same file instead of leaving orphans), and served at
``{public_url}/media/<name>`` until it expires.

Only files the gateway wrote are ever deleted: each file's row in ``sms_media`` is committed
before the file is written, and clean-up deletes by those rows alone (the file and its
temporary ``.<name>.tmp``), never by scanning the directory, so whatever else shares it
is safe.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import mimetypes
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiohttp
from aiohttp import web
from yarl import URL

from transport.backends.sms.settings import MediaSettings
from transport.backends.sms.store import MediaRow, SmsRepo
from transport.backends.sms.twilio_api import TwilioApi

log = logging.getLogger(__name__)

NAME: Final = re.compile(r"[A-Za-z0-9_-]{32}(\.[a-z0-9]{1,10})?")
_TYPE: Final = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_REDIRECTS: Final = (301, 302, 303, 307, 308)
MAX_REDIRECTS: Final = 5
DOWNLOAD_BUDGET: Final = 10.0  # seconds for all items: Twilio gives up on a webhook at 15 s
SKIPPED_TYPES: Final = frozenset({"application/smil"})
# Served inline; anything else is served as an opaque download, so that a sender cannot
# make our origin render HTML or script.
INLINE: Final = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/heic",
    "image/heif", "text/plain", "text/vcard", "text/x-vcard", "application/pdf",
})
_EXTENSIONS: Final = {"image/jpeg": ".jpg", "text/plain": ".txt", "text/vcard": ".vcf",
                      "text/x-vcard": ".vcf", "video/3gpp": ".3gp", "audio/amr": ".amr",
                      "image/heic": ".heic", "image/heif": ".heif"}


class MediaProblem(Exception):
    """An item that cannot be re-hosted; the text is shown to the user."""


@dataclass(frozen=True, slots=True)
class MediaResult:
    """One item of a message: its URL on our server, or why there is none."""

    index: int
    declared_type: str
    url: str | None = None
    problem: str | None = None


class MediaStore:
    """Downloads, stores, serves and expires media files in one directory."""

    def __init__(
        self, repo: SmsRepo, directory: Path, settings: MediaSettings, public_url: str,
        api: TwilioApi,
    ) -> None:
        self.repo = repo
        self.directory = directory
        self.settings = settings
        self.public_url = public_url
        self.api = api
        self._key = b""
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self.directory.mkdir, mode=0o700, parents=True, exist_ok=True)
        self._key = await self.repo.secret("media-name-key")
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url_for(self, name: str) -> str:
        return f"{self.public_url}/media/{name}"

    def name_for(self, message_sid: str, index: int, content_type: str) -> str:
        digest = hmac.new(self._key, f"{message_sid}/{index}".encode(), hashlib.sha256).digest()
        token = base64.urlsafe_b64encode(digest).decode()[:32]
        return token + _extension(content_type)

    # -- inbound --------------------------------------------------------------------

    async def fetch_all(
        self, message_sid: str, items: list[tuple[str, str]], to_number: str
    ) -> list[MediaResult]:
        """Re-host every ``(twilio_url, declared_type)`` of a message to our ``to_number``;
        items kept by an earlier attempt of the same webhook are reused."""
        if not items:  # a plain text: no lookup (a database read per inbound SMS otherwise)
            return []
        kept = {row.idx: row for row in await self.repo.media_of(message_sid)}
        deadline = time.monotonic() + DOWNLOAD_BUDGET
        results: list[MediaResult] = []
        for index, (url, declared) in enumerate(items):
            if declared in SKIPPED_TYPES:
                continue
            row = kept.get(index)
            if row is not None and (self.directory / row.name).is_file():
                results.append(MediaResult(index, declared, self.url_for(row.name)))
                continue
            try:
                data, content_type = await self._download(url, declared, deadline)
                row = await self._save(message_sid, index, data, content_type, to_number)
            except MediaProblem as exc:
                log.info("Media %d of %s not re-hosted: %s", index, message_sid, exc)
                results.append(MediaResult(index, declared, problem=str(exc)))
                continue
            results.append(MediaResult(index, declared, self.url_for(row.name)))
        return results

    async def _download(self, url: str, declared: str, deadline: float) -> tuple[bytes, str]:
        if self._session is None:
            raise MediaProblem("the gateway is shutting down")
        if not self.api.is_api_url(url):  # parse_inbound let only http(s) URLs through
            raise MediaProblem("the attachment is not on Twilio's media server")
        target = URL(self.api.route(url))
        headers = {"Authorization": self.api.auth_header()}
        try:
            for _ in range(MAX_REDIRECTS + 1):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MediaProblem("downloading it from Twilio took too long")
                async with self._session.get(
                    target, headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=remaining),
                ) as resp:
                    if resp.status in _REDIRECTS and "Location" in resp.headers:
                        target = target.join(URL(resp.headers["Location"]))
                        if target.scheme not in ("http", "https"):
                            raise MediaProblem("Twilio redirected to a non-HTTP URL")
                        if not self.api.is_api_url(str(target)):
                            headers = {}  # never send the account's credentials elsewhere
                        continue
                    if resp.status != 200:
                        raise MediaProblem(f"Twilio answered HTTP {resp.status}")
                    return await self._read(resp), _checked_type(resp.content_type, declared)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaProblem(f"it could not be downloaded ({type(exc).__name__})") from exc
        raise MediaProblem("too many redirects")

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self.settings.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise MediaProblem(f"it is larger than {limit} bytes")
        data = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise MediaProblem(f"it is larger than {limit} bytes")
        return bytes(data)

    async def _save(
        self, message_sid: str, index: int, data: bytes, ctype: str, to_number: str
    ) -> MediaRow:
        """Commit the row, then write the file: no file of ours is ever without its row."""
        name = self.name_for(message_sid, index, ctype)
        now = time.time()
        row = MediaRow(name, message_sid, index, ctype, len(data), now,
                       now + self.settings.expire_after, to_number)
        await self.repo.add_media([row])
        await asyncio.to_thread(_write_durably, self.directory, name, data)
        return row

    # -- serving --------------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET/HEAD /media/{name}``: the file, or 404 for anything unknown or expired."""
        name = request.match_info.get("name", "")
        if not NAME.fullmatch(name):
            raise web.HTTPNotFound()
        row = await self.repo.media(name)
        path = self.directory / name
        if row is None or row.expires_at <= time.time() or not path.is_file():
            raise web.HTTPNotFound()
        inline = row.content_type in INLINE or row.content_type.split("/")[0] in (
            "audio", "video")
        headers = {
            "Content-Type": row.content_type if inline else "application/octet-stream",
            "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename={name}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400",
        }
        return web.FileResponse(path, headers=headers)

    # -- expiry -----------------------------------------------------------------------

    async def cleanup(self) -> int:
        """Delete the files and rows of expired media; the count of media deleted."""
        expired = await self.repo.expired_media(time.time())
        await self._delete(expired)
        if expired:
            log.info("Media cleanup: %d expired file(s) deleted", len(expired))
        return len(expired)

    async def purge_number(self, number: str) -> int:
        """Delete every media file that came to ``number`` (it is being released)."""
        names = await self.repo.media_to(number)
        await self._delete(names)
        return len(names)

    async def _delete(self, names: list[str]) -> None:
        for name in names:
            await asyncio.to_thread(_unlink_own, self.directory, name)
        if names:
            await self.repo.delete_media(names)


def _checked_type(served: str, declared: str) -> str:
    """The type to record: what Twilio served, which must agree with what it declared."""
    served = served.lower().strip()
    declared = declared.lower().strip()
    served_ok = bool(_TYPE.fullmatch(served)) and served != "application/octet-stream"
    if not served_ok:
        if not _TYPE.fullmatch(declared):
            return "application/octet-stream"
        return declared
    if _TYPE.fullmatch(declared) and served.split("/")[0] != declared.split("/")[0]:
        raise MediaProblem(f"Twilio served {served} for a {declared} attachment")
    return served


def _extension(content_type: str) -> str:
    ext = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type, strict=False)
    return ext if ext and re.fullmatch(r"\.[a-z0-9]{1,10}", ext) else ""


def _write_durably(directory: Path, name: str, data: bytes) -> None:
    """Write, fsync, rename, fsync the directory: the file exists before we say 200."""
    tmp = directory / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / name)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _unlink_own(directory: Path, name: str) -> None:
    """Delete a media file of ours and its temporary file, if either exists; a name that
    is not of our making (no path, no other file) is never touched."""
    if not NAME.fullmatch(name):
        return
    for path in (directory / name, directory / f".{name}.tmp"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
