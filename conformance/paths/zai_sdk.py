"""Z.AI's official Python SDK (`zai-sdk`): `ZaiClient(api_key=…, base_url=<endpoint>)`.

`client.chat.completions.create()` declares Z.AI's own parameters (`thinking`, `reasoning_effort`,
`tool_stream`, `do_sample`, `request_id`…); what it does not declare (`stream_options`) goes in
`extra_body`, which the SDK merges into the body. What the SDK itself puts on the wire, and the
request checks see: `Authorization: Bearer <key>` (the raw key: `disable_token_cache=True` is the
default; the JWT alternative is off), `Accept-Language: en-US,en`, `x-source-channel: python-sdk`,
`Zai-SDK-Ver`, `source_type` and `x-request-sdk: z-ai-sdk-python`; and in the body
`"response_format": null` and `"thinking": null` whenever the caller does not set them (the two
parameters default to None, not to the SDK's NOT_GIVEN, so they are not stripped).

Its `create()` also rewrites `temperature`/`top_p` outside (0, 1) (≤0 → 0.01 with do_sample=false,
≥1 → 0.99): legacy clamping the request checks would report. Responses are built without
validation; `message.reasoning_content` and `delta.reasoning_content` are declared fields.
History follows the SDK's own function-call example: the returned message object is appended as it
is (the SDK serialises it with `model_dump(exclude_unset=True)`, so `reasoning_content` and the tool
calls' `index` go back; and since `create()` reassigns every message's `content` to strip image-data
prefixes, a tool-call message that had no `content` key goes back as `"content": null`). Retries are off.
"""

from __future__ import annotations

from typing import Any

import httpx

from conformance.observation import Envelope, Turn, field_of
from conformance.paths.base import ClientPath, embedding_turn, sdk_arguments
from conformance.paths.streaming import StreamAssembler, message_turn


def render(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI-protocol body → keyword arguments of `ZaiClient.chat.completions.create`."""
    from zai.api_resource.chat.completions import Completions

    return sdk_arguments(Completions.create, body)


class ZaiSDKPath(ClientPath):
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from zai import ZaiClient

            self._client = ZaiClient(
                api_key=self.target.api_key,
                base_url=self.target.base_url,
                timeout=httpx.Timeout(self.target.idle_timeout, connect=self.target.connect_timeout),
                max_retries=0,
            )
        return self._client

    def embed(self, body: dict[str, Any]) -> Turn:
        return embedding_turn(self.client.embeddings.create(**sdk_arguments(self.client.embeddings.create, body)))

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        kwargs = render(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            stream = self.client.chat.completions.create(**kwargs)
            try:
                for chunk in stream:
                    assembler.add(chunk)
            finally:
                stream.response.close()
            turn = assembler.turn()
            first = assembler.chunks[0] if assembler.chunks else None
            turn.envelope = Envelope(model=field_of(first, "model"), created=field_of(first, "created"))
            # The SDK's streaming examples print deltas; a user keeping the history assembles the message.
            return turn, assembler.history_message()
        response = self.client.chat.completions.create(**kwargs)
        choice = response.choices[0]
        turn = message_turn(index, choice.message, choice.finish_reason, response.usage)
        if turn.reasoning:
            turn.reasoning_field = "message.reasoning_content (declared field)"
        turn.envelope = Envelope(
            model=response.model,
            created=response.created,
            object=field_of(response, "object"),  # undeclared by the SDK (Z.AI's 2026 envelope has it)
            id=response.id,
        )
        turn.extras = {"request_id": response.request_id}
        return turn, choice.message
