"""When the double refuses a request, and with which Z.AI error — each triggered deterministically.

Triggers (documented in README "The Z.AI double"; the key and fault triggers are read with
conformance/triggers.py, which the harness uses to provoke them):
- the key: none → 401/1001; containing `invalid` → 401/1002; `double-coding-…` on the general
  endpoint, or `double-payg-…` on the coding or Anthropic endpoint → 429/1113 (the wrong plan);
- the request: a model not in the catalogue → 400/1211; an empty message without tool calls →
  400/1214; a prompt longer than the model's context window → 400/1261; temperature outside [0, 1]
  or top_p outside [0.01, 1] → 400/1210; `thinking: disabled` for an
  always-thinking model on the general endpoint → 400/1210 (the coding endpoint ignores it);
  a `reasoning_effort` level the model does not document, on the general endpoint → 400/1210;
- a fault marker `[double:<code>]` in the last user message, or the header `X-Double-Fault: <code>`,
  for 1301, 1302, 1305, 1308, 1310, 1311, 1214, 1261 and 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from conformance.double.answers import double_data, tokens
from conformance.double.ask import Ask
from conformance.triggers import is_invalid, wrong_plan

ERROR_FAULTS = frozenset({"1301", "1302", "1305", "1308", "1310", "1311", "1214", "1261", "500"})
UTC8 = timedelta(hours=8)
# Z.AI's documented ranges (ZAI-FACTS §2.1): outside them, 400/1210.
SAMPLING_RANGES = (("temperature", 0.0, 1.0), ("top_p", 0.01, 1.0))


@dataclass
class Refusal(Exception):
    code: str
    http: int
    message: str
    request_id: bool = False  # the body carries a top-level request_id (seen for 1308)
    bare: bool = False  # the Anthropic surface sends it in the plain {"error": …} envelope (seen for 1210)


def refusal(key: str, **fields: str) -> Refusal:
    entry = double_data()["errors"][key]
    return Refusal(
        str(entry.get("code", key)),
        int(entry["http"]),
        entry["message"].format(**fields),
        request_id=bool(entry.get("request_id")),
        bare=bool(entry.get("bare")),
    )


def check_key(key: str | None, endpoint: str) -> None:
    if not key:
        raise refusal("1001")
    if is_invalid(key):
        raise refusal("1002")
    if wrong_plan(key, endpoint):
        raise refusal("1113")


def check_request(ask: Ask) -> None:
    if ask.fault in ERROR_FAULTS:
        raise refusal(ask.fault, index="1", reset=_reset_time())
    if ask.model is None:
        raise refusal("1211")
    for index, message in enumerate(ask.messages):
        if message.role != "system" and not message.text.strip() and not message.tool_calls:
            raise refusal("1214", index=str(index))
    if tokens(ask.input_text) > ask.model.context_window:
        raise refusal("1261")
    for name, low, high in SAMPLING_RANGES:
        value = getattr(ask, name)
        if isinstance(value, int | float) and not low <= value <= high:
            raise refusal(f"1210-{name}")
    if ask.endpoint == "general":
        if ask.thinking == "disabled" and ask.model.thinking == "always":
            raise refusal("1210-thinking")
        effort = ask.reasoning_effort
        if effort and ask.model.reasoning_effort and effort not in ask.model.reasoning_effort:
            raise refusal("1210-thinking")


def _reset_time() -> str:
    """Quota resets are announced in UTC+8, as Z.AI does."""
    return (datetime.now(UTC) + UTC8 + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S")
