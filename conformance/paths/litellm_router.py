"""The LiteLLM guide's advanced recipes — a `litellm.Router` in front of `zai/` — as client paths.

One path per recipe, each running only its own scenario (the catalogue's `scenarios:` / `paths:`):

- `RouterFallbackPath` (router-fallback): two deployments of the cell's model on the cell's endpoint,
  "glm" and "glm-backup", with `fallbacks=[{"glm": ["glm-backup"]}]`. The double is asked to fail the
  primary only (the `X-Double-Fault` header goes on that deployment's `extra_headers`), so the answer
  must come from the backup. Extras name the deployment that answered and how many were tried.
- `RouterCachePath` (router-cache): `Router(cache_responses=True)` — LiteLLM's in-memory response cache
  (docs.litellm.ai routing.md "Caching"). The same request is made twice; the turn is the second
  answer, which must be a cache hit that sent nothing upstream.
- `RouterRateLimitPath` (router-rate-limit): the deployment's `rpm` limit (routing.md) set to 1, enforced
  by the Router's `enforce_model_rate_limits` pre-call check (litellm/router_utils/pre_call_checks/
  model_rate_limit_check.py: "actively enforces those limits across ALL routing strategies"). Two
  requests in a row; the turn is the second, which LiteLLM refuses with a 429 `RateLimitError` before
  sending anything. An `rpm` alone is only a routing weight: both requests go out.

What every recipe shares, and why:

- No retries. `Router(num_retries=0)` is not enough: `zai/` does not list `max_retries` among its
  supported parameters, so LiteLLM drops it and the OpenAI SDK underneath keeps its default of two
  retries — a 429 is sent three times. `allowed_openai_params: ["max_retries"]` (LiteLLM's documented
  way to pass a parameter a provider config does not list) lets `max_retries: 0` reach the SDK.
- Isolation. A Router hooks itself into LiteLLM's module-level callback lists, `cache_responses`
  installs a process-wide `litellm.cache` (mode default_on: every later `litellm.completion` in the
  process would be answered from it), and `Router.discard()` unhooks only part of that. Each cell
  therefore runs inside `isolated_litellm` (conformance/litellm_globals.py), which starts it
  without a global cache and puts every one of those globals back afterwards: nothing leaks into the
  next cell or into the other LiteLLM paths.
- Each turn's `answered_from` says where the turn's answer came from, for pairing it with the wire:
  `upstream` (the last request sent: the backup's answer), `cache` (the answer of the one request
  sent, replayed by the cache) or `client` (nothing was sent for it: LiteLLM refused by itself); its
  `router` holds what the Router says about the answer. The answers are read as the LiteLLM path reads
  them (conformance/paths/litellm.py).
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from datetime import UTC, datetime
from typing import Any

from conformance.catalogue import ClientPathSpec, Scenario
from conformance.litellm_globals import isolated_litellm
from conformance.observation import AnsweredFrom, RouterFacts, Turn, plain
from conformance.paths.base import NO_CALL_OPTIONS, CallOptions, ClientPath, Target
from conformance.paths.litellm import answer_turn, stream_turn
from conformance.paths.streaming import StreamAssembler
from conformance.triggers import FAULT_HEADER

PRIMARY = "glm"  # the guide's deployment names
BACKUP = "glm-backup"
# max_retries=0 only reaches the OpenAI SDK under `zai/` when LiteLLM is allowed to pass it (see above)
NO_SDK_RETRIES: dict[str, Any] = {"max_retries": 0, "allowed_openai_params": ["max_retries"]}
RPM_LIMIT = 1
RATE_LIMIT_CHECK = "enforce_model_rate_limits"
# LiteLLM counts requests per UTC minute ("%H-%M" keys): a pair of calls straddling a minute boundary
# would be counted in two windows. Starting the pair this close to a boundary waits for the next minute.
WINDOW_MARGIN_S = 1.0


def _quiet_router() -> None:
    # The Router logs every failed deployment at INFO (a fallback is a failure it recovers from).
    logging.getLogger("LiteLLM Router").setLevel(logging.ERROR)


class _RouterPath(ClientPath):
    """A Router built for one cell: `run` makes it, drives the scenario through it and discards it."""

    group = PRIMARY  # the model group the calls name

    def __init__(self, spec: ClientPathSpec, target: Target, *, options: CallOptions = NO_CALL_OPTIONS) -> None:
        super().__init__(spec, target, options=options)
        self._router: Any = None

    @abstractmethod
    def router_settings(self, model: str) -> dict[str, Any]:
        """`litellm.Router(**settings)` for a cell of `model` (`num_retries=0` is added)."""

    def deployment(self, name: str, model: str, **params: Any) -> dict[str, Any]:
        """One `model_list` entry: `zai/<model>` on the cell's endpoint, with the cell's key and timeout."""
        litellm_params = {
            "model": f"zai/{model}",
            "api_base": self.target.base_url,
            "api_key": self.target.api_key,
            "timeout": self.target.idle_timeout,
            **NO_SDK_RETRIES,
            **params,
        }
        return {"model_name": name, "litellm_params": litellm_params}

    def run(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        _quiet_router()
        with isolated_litellm() as litellm:
            self._router = litellm.Router(num_retries=0, **self.router_settings(first_request["model"]))
            try:
                return self.drive(scenario, first_request)
            finally:
                self._router.discard()
                self._router = None

    def drive(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        """The conversation through the Router: one Router call per turn (ClientPath.run → send)."""
        return super().run(scenario, first_request)

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        return self.answer(index, body)

    def call(self, body: dict[str, Any]) -> Any:
        """`router.completion` for an OpenAI-protocol body: every field as a keyword (as `zai/` takes
        them), the cell's timeout, and the scenario's client-only arguments."""
        kwargs = {key: value for key, value in body.items() if key not in ("model", "messages")}
        kwargs["timeout"] = self.target.idle_timeout
        kwargs.update(self.client_params)
        return self._router.completion(model=self.group, messages=body["messages"], **kwargs)

    def answer(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        response = self.call(body)
        if body.get("stream"):
            assembler = StreamAssembler(index)
            for chunk in response:
                assembler.add(chunk)
            turn, message = stream_turn(assembler, body["messages"])
        else:
            turn, message = answer_turn(index, response)
        turn.router = self.routing_facts(response)
        return turn, message

    def routing_facts(self, response: Any) -> RouterFacts:
        """What the Router says about an answer: the deployment behind its `model_id`, the model group,
        fallbacks and retries it took (its `x-litellm-*` response headers), and whether it was cached."""
        hidden = getattr(response, "_hidden_params", None) or {}
        headers = hidden.get("additional_headers") or {}
        model_id = hidden.get("model_id")
        deployment = self._router.get_deployment(model_id=model_id) if model_id else None
        return RouterFacts(
            deployment=deployment.model_name if deployment is not None else None,
            model_group=headers.get("x-litellm-model-group"),
            attempted_fallbacks=headers.get("x-litellm-attempted-fallbacks"),
            attempted_retries=headers.get("x-litellm-attempted-retries"),
            cache_hit=hidden.get("cache_hit"),
        )

    def close(self) -> None:
        if self._router is not None:  # run() discards it; this only covers a run that never finished
            self._router.discard()
            self._router = None


class RouterFallbackPath(_RouterPath):
    """The guide's fallback: the GLM deployment fails, the second deployment answers the same call."""

    def router_settings(self, model: str) -> dict[str, Any]:
        primary = self.deployment(PRIMARY, model)
        if self.fault_header:  # the double fails this deployment only; the backup is asked plainly
            primary["litellm_params"]["extra_headers"] = {FAULT_HEADER: self.fault_header}
        return {
            "model_list": [primary, self.deployment(BACKUP, model)],
            "fallbacks": [{PRIMARY: [BACKUP]}],
        }

    def send(self, index: int, body: dict[str, Any]) -> tuple[Turn, Any]:
        turn, message = self.answer(index, body)
        facts = turn.router or RouterFacts()
        turn.answered_from = "upstream"
        turn.extras["answered_by"] = facts.deployment or facts.model_group
        turn.extras["deployments_tried"] = 1 + int(facts.attempted_fallbacks or 0)
        return turn, message


class RouterCachePath(_RouterPath):
    """The guide's response caching: the same request twice; the second answer comes from the cache.
    One turn (the second call's), so only single-turn scenarios."""

    def router_settings(self, model: str) -> dict[str, Any]:
        return {"model_list": [self.deployment(PRIMARY, model)], "cache_responses": True}

    def drive(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        started = time.perf_counter()
        try:
            first, _ = self.answer(0, first_request)
        except Exception as exc:  # nothing to cache: the first call's error is the observation
            return [_failed_turn(self, exc, started, {"calls": 1, "cache_hit": False})]
        first_ms = _elapsed_ms(started)
        started = time.perf_counter()
        try:
            turn, _ = self.answer(0, first_request)
        except Exception as exc:
            return [_failed_turn(self, exc, started, {"calls": 2, "cache_hit": False})]
        turn.duration_ms = _elapsed_ms(started)
        hit = bool(turn.router and turn.router.cache_hit)
        turn.answered_from = "cache" if hit else "upstream"
        turn.extras.update(
            cache_hit=hit,
            calls=2,
            first_call={
                "cache_hit": bool(first.router and first.router.cache_hit),
                "duration_ms": first_ms,
                "same_answer": (first.text, first.reasoning) == (turn.text, turn.reasoning),
            },
        )
        return [turn]


class RouterRateLimitPath(_RouterPath):
    """The guide's client-side rate limiting: the deployment allows 1 request per minute; the second
    of two requests in a row must be refused by LiteLLM (429) without reaching Z.AI."""

    def router_settings(self, model: str) -> dict[str, Any]:
        return {
            "model_list": [self.deployment(PRIMARY, model, rpm=RPM_LIMIT)],
            "optional_pre_call_checks": [RATE_LIMIT_CHECK],
        }

    def drive(self, scenario: Scenario, first_request: dict[str, Any]) -> list[Turn]:
        limit = {"rpm": RPM_LIMIT, "pre_call_check": RATE_LIMIT_CHECK}
        waited = _wait_for_fresh_window(WINDOW_MARGIN_S)
        windows = [_window()]
        started = time.perf_counter()
        try:
            first, _ = self.answer(0, first_request)
        except Exception as exc:  # the first request must go through; its error is the observation
            extras = {"rate_limit": limit, "calls": 1, "first_call": "failed", "rpm_windows": windows}
            return [_failed_turn(self, exc, started, extras)]
        first_call = {"finish_reason": first.finish_reason, "duration_ms": _elapsed_ms(started)}
        windows.append(_window())
        started = time.perf_counter()
        try:
            turn, _ = self.answer(0, first_request)
            second: dict[str, Any] = {"outcome": "answered"}
            turn.answered_from = "upstream"
        except Exception as exc:
            refused = _refused_by_client(exc)
            turn = Turn(index=0, error=self.describe_error(exc), answered_from="client" if refused else "upstream")
            second = {
                "outcome": "refused" if refused else "failed",
                "refused_by_client": refused,
                "exception": turn.error.exception,
                "category": plain(getattr(exc, "category", None)),
                "retry_after": _retry_after(exc),
            }
        turn.duration_ms = _elapsed_ms(started)
        second["waited_ms"] = turn.duration_ms  # a client that queues instead of refusing shows it here
        turn.extras.update(
            rate_limit=limit,
            calls=2,
            first_call=first_call,
            second_call=second,
            rpm_windows=windows,
            waited_for_window_s=round(waited, 3),
        )
        return [turn]


def _failed_turn(path: ClientPath, exc: BaseException, started: float, extras: dict[str, Any]) -> Turn:
    """The turn of a call that raised: the error, where it came from, and the recipe's facts so far."""
    answered_from: AnsweredFrom = "client" if _refused_by_client(exc) else "upstream"
    turn = Turn(index=0, error=path.describe_error(exc), answered_from=answered_from, extras=extras)
    turn.duration_ms = _elapsed_ms(started)
    return turn


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _window() -> str:
    """The UTC minute LiteLLM files a request's rpm count under (its keys end in `%H-%M`)."""
    return datetime.now(UTC).strftime("%H-%M")


def _wait_for_fresh_window(margin: float) -> float:
    """Sleep into the next UTC minute when fewer than `margin` seconds are left of this one (at most
    `margin` seconds); return how long. Keeps a fast pair of calls inside one rpm window."""
    now = datetime.now(UTC)
    left = 60 - (now.second + now.microsecond / 1e6)
    if left >= margin:
        return 0.0
    time.sleep(left + 0.01)
    return left + 0.01


def _refused_by_client(exc: BaseException) -> bool:
    """Whether LiteLLM raised the 429 itself: its rate-limit refusals name no provider and carry one of
    the Router's own error texts in their made-up HTTP response. (The exception's `category` says
    `vendor_rate_limit` all the same, and its `request` is a placeholder: neither tells.)"""
    from litellm.types.router import RouterErrors

    if getattr(exc, "llm_provider", None) != "":
        return False
    try:
        text = exc.response.text  # type: ignore[attr-defined]
    except Exception:  # no response to read: not one of the Router's refusals
        return False
    own = (RouterErrors.user_defined_ratelimit_error.value, RouterErrors.max_parallel_requests_exceeded.value)
    return any(marker in text for marker in own)


def _retry_after(exc: BaseException) -> str | None:
    try:
        return exc.response.headers.get("retry-after")  # type: ignore[attr-defined]
    except Exception:  # no response headers to read
        return None
