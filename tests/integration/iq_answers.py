"""Hostile IQs written raw on a real client stream, and every answer they get, counted."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher.base import MatcherBase

from transport.testing.xmpp_client import TestClient
from transport.xmpp.stanzas import error_condition


class _Answers(MatcherBase):
    def __init__(self) -> None:
        super().__init__("iq answers")

    def match(self, xml: Any) -> bool:
        element = xml.xml
        return element.tag.endswith("}iq") and element.get("type") in ("result", "error")


class AnswerLog:
    """Every IQ result and error a client receives, by id."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.by_id: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Event()
        client.register_handler(Callback(f"answers {uuid.uuid4().hex}", _Answers(), self._add))

    def _add(self, iq: Any) -> None:
        self.by_id[iq["id"]].append(iq)
        self._changed.set()

    async def settle(self, to: str, timeout: float = 10.0) -> None:
        """Wait for the answer to a ping sent now, then a moment for any answer too many."""
        probe = f"probe-{uuid.uuid4().hex[:8]}"
        self.client.send_raw(f"<iq type='get' id='{probe}' to='{to}'>"
                             "<ping xmlns='urn:xmpp:ping'/></iq>")
        async with asyncio.timeout(timeout):
            while not self.by_id[probe]:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.sleep(0.3)

    def only(self, iq_id: str) -> Any:
        """The single answer to ``iq_id`` (fails on none or several)."""
        answers = self.by_id.get(iq_id, [])
        assert len(answers) == 1, f"{iq_id}: {[str(a) for a in answers]}"
        return answers[0]

    def condition(self, iq_id: str) -> str:
        answer = self.only(iq_id)
        assert answer["type"] == "error", str(answer)
        children = [child.tag.rpartition("}")[2] for child in answer.xml]
        assert children == ["error"], f"the error copied the request back: {answer}"
        return error_condition(answer)
