"""LiteLLM's Responses API (`litellm.responses(model="openai/<id>", api_base=…, api_key=…)`) pointed at Z.AI's
`/api/v1`: the OpenAI provider route, whose Responses transformation posts to `<api_base>/responses`.

LiteLLM answers with its own `ResponsesAPIResponse` (OpenAI's shape) and, streamed, with typed events;
both are read as the OpenAI SDK path reads them (paths/openai_responses.py), so the two columns compare
what each client makes of the same bytes. Retries are off; the cell's idle limit is LiteLLM's timeout.
"""

from __future__ import annotations

from typing import Any

from conformance.litellm_globals import import_litellm
from conformance.observation import Turn
from conformance.paths.base import ClientPath
from conformance.paths.openai_responses import ResponsesStreamReader, next_input, response_turn


class LiteLLMResponsesPath(ClientPath):
    def kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        arguments = {key: value for key, value in body.items() if key != "model"}
        return {
            **arguments,
            "model": f"openai/{body['model']}",
            "api_base": self.target.base_url,
            "api_key": self.target.api_key,
            "timeout": self.target.idle_timeout,
            "num_retries": 0,
            "max_retries": 0,
        }

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        litellm = import_litellm()
        kwargs = self.kwargs(body)
        if body.get("stream"):
            reader = ResponsesStreamReader(index)
            for event in litellm.responses(**kwargs):
                reader.add(event)
            return reader.turn(), next_input(reader.response) if reader.response is not None else []
        response = litellm.responses(**kwargs)
        return response_turn(index, response), next_input(response)
