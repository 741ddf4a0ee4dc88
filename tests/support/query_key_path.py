"""A test client path that sends the key as a URL query parameter (as some gateways require), so
the secrets test can prove URL scrubbing through the real recorder."""

from __future__ import annotations

import json
from typing import Any

import httpx

from conformance.observation import Turn
from conformance.paths.base import ClientPath
from conformance.paths.streaming import StreamAssembler, message_turn


class QueryKeyPath(ClientPath):
    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        url = f"{self.target.base_url}/chat/completions"
        with httpx.Client(timeout=self.target.idle_timeout) as client:
            response = client.post(url, params={"api_key": self.target.api_key}, json=body)
        response.raise_for_status()
        if body.get("stream"):
            assembler = StreamAssembler(index)
            for line in response.text.splitlines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    assembler.add(json.loads(line[6:]))
            return assembler.turn(), assembler.history_message()
        data = response.json()
        choice = data["choices"][0]
        return message_turn(index, choice["message"], choice.get("finish_reason"), data.get("usage")), choice["message"]
