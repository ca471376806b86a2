"""The Rasa backend: parses through a Rasa server's ``POST /model/parse``.

The server is trained from the same ``nlu_data/``. Any failure to get a usable answer
(down, slow, an error status, a body that is not a parse) raises
:class:`~bot.errors.NluUnavailable`; the pipeline then falls back to the embedded NLU.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.errors import NluUnavailable
from bot.nlu import Entity, Parse
from bot.nlu.entities import extract


class RasaNlu:
    """An NLU backend that asks a Rasa server."""

    def __init__(self, client: httpx.AsyncClient, threshold: float) -> None:
        """Use ``client`` (its ``base_url`` is the Rasa server) for every parse."""
        self._client = client
        self.threshold = threshold

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def parse(self, text: str, language: str) -> Parse:
        """Return the server's intent ranking; entities also come from our patterns.

        Raises:
            NluUnavailable: The server did not give a usable answer.
        """
        try:
            response = await self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise NluUnavailable(f"rasa: {error.__class__.__name__}: {error}") from error
        return self._reading(body, text)

    def _reading(self, body: Any, text: str) -> Parse:
        if not isinstance(body, dict) or not isinstance(body.get("intent"), dict):
            raise NluUnavailable("rasa: the answer has no intent")
        best = body["intent"]
        name, confidence = best.get("name"), float(best.get("confidence") or 0.0)
        ranking = tuple(
            (str(item["name"]), float(item["confidence"]))
            for item in body.get("intent_ranking") or []
            if isinstance(item, dict) and "name" in item and "confidence" in item
        )
        intent = str(name) if name and confidence >= self.threshold else None
        entities = extract(text) or tuple(
            Entity(str(e["entity"]), str(e["value"]), int(e["start"]), int(e["end"]))
            for e in body.get("entities") or []
            if isinstance(e, dict) and {"entity", "value", "start", "end"} <= set(e)
        )
        return Parse(intent, confidence, ranking[:5], entities)
