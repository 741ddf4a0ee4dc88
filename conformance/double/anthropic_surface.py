"""The double's Anthropic-protocol surface (placeholder until implemented)."""

from __future__ import annotations

from conformance.catalogue import Catalogue
from conformance.double.answers import Answer
from conformance.double.ask import Ask
from conformance.double.refusals import Refusal
from conformance.double.wire import DoubleRequest, Reply


def key(request: DoubleRequest) -> str | None:
    return request.headers.get("x-api-key") or request.bearer()


def parse(request: DoubleRequest, catalogue: Catalogue) -> Ask:
    raise NotImplementedError


def render(ask: Ask, answer: Answer) -> Reply:
    raise NotImplementedError


def render_refusal(refused: Refusal, stream: bool) -> Reply:
    raise NotImplementedError
