"""The OpenAI Python SDK pointed at a Z.AI OpenAI-protocol endpoint (`base_url`), as Z.AI's docs show.

Parameters the SDK's `create()` declares are passed as keywords; Z.AI-only ones (`thinking`,
`tool_stream`, `do_sample`, `request_id`, `user_id`…) go in `extra_body`, the SDK's documented way.
Retries are off: a retry would hide the first answer and stretch a replay miss into seconds.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from openai import DefaultHttpxClient, OpenAI

from conformance.observation import Envelope, Turn
from conformance.paths.base import ClientPath, embedding_turn, models_turn, sdk_arguments
from conformance.paths.streaming import StreamAssembler, message_turn


@cache
def _ssl_context() -> Any:
    """One TLS context per process: building one (loading the CA bundle) costs more than a replayed cell."""
    return httpx.create_ssl_context()


def render(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI-protocol body → keyword arguments of `client.chat.completions.create`."""
    from openai.resources.chat.completions import Completions

    return sdk_arguments(Completions.create, body)


class OpenAISDKPath(ClientPath):
    _client: OpenAI | None = None

    @property
    def client(self) -> OpenAI:
        if self._client is None:
            timeout = httpx.Timeout(self.target.idle_timeout, connect=self.target.connect_timeout)
            self._client = OpenAI(
                api_key=self.target.api_key,
                base_url=self.target.base_url,
                max_retries=0,
                timeout=timeout,
                # the SDK's own client settings, with a shared TLS context
                http_client=DefaultHttpxClient(verify=_ssl_context(), timeout=timeout),
            )
        return self._client

    def list_models(self) -> Turn:
        return models_turn(self.client.models.list())

    def embed(self, body: dict[str, Any]) -> Turn:
        from openai.resources.embeddings import Embeddings

        return embedding_turn(self.client.embeddings.create(**sdk_arguments(Embeddings.create, body)))

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        kwargs = render(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            stream = self.client.chat.completions.create(**kwargs)
            with stream:
                for chunk in stream:
                    assembler.add(chunk)
            return assembler.turn(), assembler.history_message()
        response = self.client.chat.completions.create(**kwargs)
        choice = response.choices[0]
        turn = message_turn(index, choice.message, choice.finish_reason, response.usage)
        if turn.reasoning:
            turn.reasoning_field = "message.reasoning_content (undeclared extra field)"
        turn.envelope = Envelope(model=response.model, object=response.object, id=response.id)
        # The OpenAI docs' idiom: append the returned message object to the history as it is.
        return turn, choice.message
