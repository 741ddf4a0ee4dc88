"""`zai-conformance doctor`: is this machine's Z.AI setup going to work, and if not, what to fix?

The integration guides end with a connection test (`Say 'connection successful'`, timeout 10).
Doctor runs it the way a user would debug a setup: is there a key; does each endpoint accept it (a
Coding Plan key only works on the coding and Anthropic endpoints, a pay-as-you-go key only on the
general one — Z.AI says 1113 otherwise); is the model there; and does one round trip work through
each selected client path. Every problem is said in plain words with the fix. Nothing is recorded:
the round trips go through the normal runner into a throw-away cassette folder.

Which plan a key belongs to is asked of Z.AI's quota endpoint (`GET /api/monitor/usage/quota/limit`
on the API's host; ZAI-FACTS §9.3). A Coding Plan key answers with its plan's name and quota windows;
a live conformance run belongs on a pay-as-you-go key, since the Coding Plan is limited to the
officially supported tools. The answer's shape is known from one public source only
(steipete/CodexBar docs/zai.md), so doctor reads it defensively and says so; the double does not serve
it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.agent_configs import AgentConfig
from conformance.catalogue import Catalogue, Endpoint
from conformance.runner import CellRunner, RunSettings
from conformance.secrets import SCRUBBER
from conformance.verdict import Verdict

TIMEOUT = 10.0  # the guides' connection test
QUOTA_PATH = "/api/monitor/usage/quota/limit"
QUOTA_SOURCE = "steipete/CodexBar docs/zai.md (one public source; the shape is unverified)"
CODING_PLAN_ONLY = (
    "live conformance runs belong on a pay-as-you-go key: the GLM Coding Plan is limited to the officially "
    "supported tools (docs.z.ai/devpack/tool/others)"
)
PROMPT = "Say 'connection successful'"
DEFAULT_MODEL = "glm-4.5-air"  # cheap, and on both plans


@dataclass
class Check:
    subject: str
    ok: bool | None  # None: a warning
    detail: str
    fix: str | None = None

    def lines(self) -> list[str]:
        mark = {True: "ok  ", False: "FAIL", None: "warn"}[self.ok]
        out = [f"[{mark}] {self.subject}: {self.detail}"]
        if self.fix:
            out.append(f"       fix: {self.fix}")
        return out


def diagnose(
    catalogue: Catalogue,
    api_key: str | None,
    key_source: str,
    base_urls: dict[str, str],
    model: str | None = None,
    endpoints: list[str] | None = None,
    path_patterns: list[str] | None = None,
    every_model: bool = False,
) -> list[Check]:
    """`every_model`: also ask each catalogue model once (one token) on each working OpenAI-protocol
    endpoint, to list the models the key's plan leaves out (1311) or Z.AI does not know (1211)."""
    model = model or DEFAULT_MODEL
    if not api_key:
        return [
            Check(
                "key",
                False,
                "no API key: ZAI_API_KEY is not set",
                "export ZAI_API_KEY=<your key> (or put it in a .env file and pass --env-file .env)",
            )
        ]
    SCRUBBER.add_secret(api_key)
    checks = [Check("key", True, f"found in {key_source}"), *plan_checks(quota_url(catalogue, base_urls), api_key)]
    chosen = [e for e in catalogue.endpoints if not endpoints or e.id in endpoints]
    working = []
    for endpoint in chosen:
        url = base_urls.get(endpoint.id, endpoint.base_url)
        check = probe(endpoint, url, api_key, model)
        checks.append(check)
        if check.ok:
            working.append(endpoint)
            checks += _listed(endpoint, url, api_key, model)
            if every_model:
                checks += model_checks(catalogue, endpoint, url, api_key)
    if working:
        _other_plan_is_not_a_problem(checks)
    checks += _round_trips(catalogue, working, base_urls, api_key, model, path_patterns)
    return checks


def quota_url(catalogue: Catalogue, base_urls: dict[str, str]) -> str:
    """The quota endpoint on the host of the general endpoint (as the run aims it)."""
    general = next((e for e in catalogue.endpoints if e.id == "general"), catalogue.endpoints[0])
    parts = urlsplit(base_urls.get(general.id, general.base_url))
    return f"{parts.scheme}://{parts.netloc}{QUOTA_PATH}"


PLAN_KEYS = ("planName", "plan", "plan_type", "packageName", "level")  # where the source finds the plan's name
WINDOW_UNITS = {1: "day", 3: "hour", 5: "minute", 6: "week"}  # the source's `unit` codes


def plan_checks(url: str, api_key: str) -> list[Check]:
    """What the quota endpoint says of the key's plan: its name and quota windows, and where a live run
    belongs. Nothing here fails the setup: a key the endpoint names no plan for is pay-as-you-go."""
    subject = f"plan ({SCRUBBER.url(url)})"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:  # unreachable is not "no plan": say which
        why = SCRUBBER.text(str(exc)) or type(exc).__name__
        return [
            Check(
                subject,
                None,
                f"the quota endpoint cannot be reached ({why}): the key's plan is unknown",
                "check your network; without it doctor cannot tell a Coding Plan key from a pay-as-you-go one",
            )
        ]
    try:
        data = response.json().get("data") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        data = None
    name = next((str(data[k]).strip() for k in PLAN_KEYS if isinstance(data, dict) and data.get(k)), None)
    if not isinstance(data, dict) or not name:
        return [
            Check(
                subject,
                None,
                "the quota endpoint names no plan for this key: pay-as-you-go, or the endpoint has moved",
                f"nothing to fix for a pay-as-you-go key (the answer is read as {QUOTA_SOURCE})",
            )
        ]
    windows = [_window(entry) for entry in data.get("limits") or [] if isinstance(entry, dict)]
    detail = SCRUBBER.text(name) + (f"; {'; '.join(windows)}" if windows else "")
    return [Check(subject, None, f"a Coding Plan key: {detail}", CODING_PLAN_ONLY)]


def _window(entry: dict[str, Any]) -> str:
    """One quota window in words: its kind and length, how much is used, when it resets (UTC)."""
    text = str(entry.get("type") or "limit")
    number, unit = entry.get("number"), WINDOW_UNITS.get(entry.get("unit"))
    if isinstance(number, int) and number > 0 and unit:
        text += f" per {number} {unit}{'s' if number != 1 else ''}"
    percentage = entry.get("percentage")
    if isinstance(percentage, int | float) and not isinstance(percentage, bool):
        text += f", {min(100, max(0, percentage)):g}% used"
    reset = entry.get("nextResetTime")
    if isinstance(reset, int | float) and not isinstance(reset, bool):
        text += f", resets {datetime.fromtimestamp(reset / 1000, UTC):%Y-%m-%d %H:%M} UTC"
    return text


def model_checks(catalogue: Catalogue, endpoint: Endpoint, url: str, api_key: str) -> list[Check]:
    """Each catalogue model asked once, with one token, on an OpenAI-protocol endpoint that took the key:
    which answer, which the plan leaves out (1311: a plan gate, HTTP 429), which Z.AI does not know."""
    if endpoint.protocol != "openai":
        return []
    answered, gated, other = [], [], []
    for entry in catalogue.models:
        body = {"model": entry.id, "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]}
        try:
            response = httpx.post(
                url.rstrip("/") + "/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            other.append(f"{entry.id} ({type(exc).__name__})")
            continue
        if response.status_code == 200:
            answered.append(entry.id)
            continue
        code, _ = _error_of(response)
        if code == "1311":
            gated.append(entry.id)
        else:
            other.append(f"{entry.id} ({code or response.status_code})")
    checks = [Check(f"models on {endpoint.id}", True, f"answered: {', '.join(answered) or 'none'}")]
    if gated:
        checks.append(
            Check(
                f"plan on {endpoint.id}",
                None,
                f"not in this key's plan (1311): {', '.join(gated)}",
                "pick one of the models that answered, or a plan (or a pay-as-you-go key) that includes them",
            )
        )
    if other:
        checks.append(Check(f"models on {endpoint.id}", None, f"refused otherwise: {', '.join(other)}"))
    return checks


def _other_plan_is_not_a_problem(checks: list[Check]) -> None:
    """A key works on its own plan's endpoints only; when one works, 1113 elsewhere is expected."""
    for check in checks:
        if check.ok is False and check.subject.startswith("endpoint ") and " code 1113:" in check.detail:
            check.ok = None
            check.fix = "not for this key's plan — use the endpoint(s) marked ok above"


def probe(endpoint: Endpoint, url: str, api_key: str, model: str) -> Check:
    """One raw connection test on an endpoint, read the way Z.AI answers."""
    subject = f"endpoint {endpoint.id} ({SCRUBBER.url(url)})"  # printed: never a credential in it
    if endpoint.protocol == "anthropic":
        target = url.rstrip("/") + "/v1/messages"
        headers = {"x-api-key": api_key, "anthropic-version": "2023-06-01"}
        body: dict[str, Any] = {"model": model, "max_tokens": 256, "messages": [{"role": "user", "content": PROMPT}]}
    elif endpoint.protocol == "responses":
        target = url.rstrip("/") + "/responses"
        headers = {"Authorization": f"Bearer {api_key}"}
        body = {"model": model, "input": PROMPT, "max_output_tokens": 256}
    else:
        target = url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"}
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
    try:
        response = httpx.post(target, json=body, headers=headers, timeout=TIMEOUT)
    except httpx.TimeoutException:
        return Check(subject, False, f"no answer within {TIMEOUT:.0f} s", "check your network or proxy; retry later")
    except httpx.HTTPError as exc:
        return Check(subject, False, f"cannot connect: {SCRUBBER.text(str(exc))}", "check the URL and your network")
    if response.status_code == 200:
        return Check(subject, True, f"key accepted, {model} answered")
    code, message = _error_of(response)
    return Check(subject, False, f"HTTP {response.status_code} code {code}: {message}", _advice(endpoint, code, model))


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, SCRUBBER.text(response.text[:200])
    return (str(error["code"]) if error.get("code") is not None else None), SCRUBBER.text(str(error.get("message")))


def _advice(endpoint: Endpoint, code: str | None, model: str) -> str:
    if code in ("1000", "1001", "1002", "1003", "1004"):
        return "the key is wrong or expired: copy it again from z.ai (API keys), without spaces or quotes"
    if code == "1113":
        other = "the coding endpoint (…/api/coding/paas/v4)" if endpoint.id == "general" else "the general one"
        return (
            "this key has no balance for this endpoint's plan. A GLM Coding Plan key works on the coding and "
            f"anthropic endpoints, a pay-as-you-go key on the general one: try {other}, or top up"
        )
    if code in ("1308", "1310"):
        return "the plan's quota is used up: wait for the reset time Z.AI gave, or upgrade the plan"
    if code in ("1302", "1305"):
        return "Z.AI is busy (concurrency or overload): retry in a minute, with fewer parallel requests"
    if code in ("1211", "1311"):
        return f"{model} is not available here: pick a model your plan includes (doctor --model …)"
    return "see the message above; docs.z.ai lists the error codes"


def _listed(endpoint: Endpoint, url: str, api_key: str, model: str) -> list[Check]:
    if endpoint.protocol != "openai":
        return []
    try:
        response = httpx.get(
            url.rstrip("/") + "/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=TIMEOUT
        )
        names = {entry.get("id") for entry in response.json().get("data", [])}
    except (httpx.HTTPError, ValueError, AttributeError):
        return [Check(f"models on {endpoint.id}", None, "the model list could not be read")]
    if model in names:
        return [Check(f"models on {endpoint.id}", True, f"{model} is listed")]
    return [Check(f"models on {endpoint.id}", None, f"{model} is not listed (Z.AI's list is incomplete; it answered)")]


def _round_trips(
    catalogue: Catalogue,
    endpoints: list[Endpoint],
    base_urls: dict[str, str],
    api_key: str,
    model: str,
    patterns: list[str] | None,
) -> list[Check]:
    patterns = patterns or ["*"]
    chosen = [p for p in catalogue.paths if any(fnmatchcase(p.id, pattern) for pattern in patterns)]
    if patterns == ["*"]:
        chosen = [p for p in chosen if not p.id.startswith("proxy-")]  # the proxy takes ~20 s to start
    checks = []
    with tempfile.TemporaryDirectory(prefix="zai-doctor-") as scratch:
        settings = RunSettings(
            mode="live", cassette_root=Path(scratch), base_urls=base_urls, api_key=api_key, idle_timeout=TIMEOUT
        )
        runner = CellRunner(catalogue, settings)
        for endpoint in endpoints:
            for path in chosen:
                if endpoint.protocol not in path.protocols:
                    continue
                cell = catalogue.cell(f"{endpoint.id}/{model}/{path.id}/connection")
                result = runner.run(cell)
                ok = result.verdict in (Verdict.PASS, Verdict.DEVIATION)
                answer = _answer_text(result)
                detail = f"{result.verdict.value}" + (f", answered {answer!r}" if answer else "")
                fix = None if ok else "; ".join(result.reasons[:2])
                checks.append(Check(f"{path.id} on {endpoint.id}", ok, detail, fix))
    return checks


def _answer_text(result: Any) -> str | None:
    turns = result.observation.turns if result.observation else []
    text = turns[0].text if turns and turns[0].text else None
    return text.strip()[:60] if text else None


def render(checks: list[Check]) -> str:
    lines = [line for check in checks for line in check.lines()]
    failed = sum(1 for check in checks if check.ok is False)
    lines.append("all good" if not failed else f"{failed} problem(s) to fix")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> str:
    return json.dumps([check.__dict__ for check in checks], indent=2)


def config_checks(config: AgentConfig) -> list[Check]:
    """An agent's own file, entry by entry: where it sends, and what is wrong, in plain words."""
    checks = []
    for entry in config.entries:
        where = f"{entry.base_url or 'no base URL'}" + (f", model {entry.model}" if entry.model else "")
        subject = f"{config.kind} {entry.name}"
        if entry.problems:
            checks += [Check(subject, False, f"{where}: {problem}") for problem in entry.problems]
        else:
            checks.append(Check(subject, True, where + (f", key from {entry.key_from}" if entry.key_from else "")))
    if not config.entries:
        checks.append(Check(f"{config.kind} {config.path}", False, "no entry names a Z.AI base URL"))
    return checks
