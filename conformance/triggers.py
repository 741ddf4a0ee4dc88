"""The double's trigger protocol: how a request asks the Z.AI double for an error or a fault.

Both sides speak it — the double reads triggers (double/refusals.py, double/faults.py, its surfaces),
the harness provokes them (scenario markers, the runner's keys, a Router's fault header, the fidelity
measurement) — so it lives here, once, and imports nothing. README "The Z.AI double" documents it:

- the key: none → 401/1001; one containing `invalid` → 401/1002 (the real Z.AI refuses such a key
  too); a `double-coding-…` key on the general endpoint, or a `double-payg-…` key on the coding or
  Anthropic endpoint → 429/1113 (a key of the other plan);
- a marker `[double:<fault>]` anywhere in the last user message, or the header
  `X-Double-Fault: <fault>` (the header wins): an error code, a finish reason, or a transport fault
  (`hang`, `slow=<seconds>`, `reset`) — what each does is the double's business (faults.py);
- the header `X-Double-Era: <era>`: answer in the wire shapes Z.AI sent in that era — an era's name
  (`2025-10`) or a date (`2025-11-11`) — instead of the double's own (the newest unless it was started
  with another); an era the recordings do not show is refused with 400 (double/eras.py);
- the header `X-Double-Calls: <tool>[,<tool>…]` or `X-Double-Calls: none`: answer with exactly these
  tool calls (or none) instead of the double's own choice. A model's choice of tools is content, not
  wire: the fidelity measure gives the double the real model's choice, so that what it compares is
  how that choice travels (double/answers.py). A tool the request does not offer is refused with 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# --- faults: a marker in the last user message, or a header ---------------------------------------

FAULT_PATTERN = r"^[a-z0-9_=.]+$"  # what a fault may be named (error codes, finish reasons, slow=2.5)
MARKER = re.compile(r"\[double:([a-z0-9_=.]+)\]")
FAULT_HEADER = "X-Double-Fault"  # as the harness sends it; HTTP header names are case-insensitive


def marker(fault: str) -> str:
    """The marker that asks for a fault: `[double:<fault>]`."""
    return f"[double:{fault}]"


def with_marker(text: str, fault: str) -> str:
    """A user message's text with the fault's marker appended (the text may be empty)."""
    return f"{text} {marker(fault)}".strip()


def marker_in(text: str) -> str | None:
    """The fault a text's first marker asks for, or None."""
    match = MARKER.search(text)
    return match.group(1) if match else None


def requested_fault(last_user_text: str, headers: Mapping[str, str]) -> str | None:
    """The fault a request asks for (`headers` with lower-cased names): the header first, then the marker."""
    value = headers.get(FAULT_HEADER.lower())
    if value:
        return value.strip().lower()
    return marker_in(last_user_text)


# --- eras: a header ------------------------------------------------------------------------------

ERA_HEADER = "X-Double-Era"  # as the harness sends it; HTTP header names are case-insensitive


def requested_era(headers: Mapping[str, str]) -> str | None:
    """The era a request asks for (`headers` with lower-cased names), or None for the double's own."""
    value = headers.get(ERA_HEADER.lower())
    return value.strip() if value and value.strip() else None


# --- calls: a header ---------------------------------------------------------------------------

CALLS_HEADER = "X-Double-Calls"  # as the harness sends it; HTTP header names are case-insensitive
NO_CALLS = "none"


def calls_header(names: list[str]) -> str:
    """The header value that asks for exactly these tool calls, in order (none for an empty list)."""
    return ",".join(names) if names else NO_CALLS


def requested_calls(headers: Mapping[str, str]) -> tuple[str, ...] | None:
    """The tool calls a request asks for (`headers` with lower-cased names): a tuple of tool names, empty
    for `none`, or None to leave the choice to the double."""
    value = (headers.get(CALLS_HEADER.lower()) or "").strip()
    if not value:
        return None
    if value.lower() == NO_CALLS:
        return ()
    return tuple(name.strip() for name in value.split(",") if name.strip())


# --- keys: refused for what they say ---------------------------------------------------------------

INVALID = "invalid"  # a key containing it is refused (401/1002)
CODING_PLAN_PREFIX = "double-coding-"  # a Coding Plan key: refused on the general endpoint
PAYG_PREFIX = "double-payg-"  # a pay-as-you-go key: refused on the coding and Anthropic endpoints
# The Responses endpoint (`responses`, /api/v1) refuses neither plan: Z.AI documents it for coding tools
# (docs.z.ai/devpack/tool/others, VicBilibily/GCMP#369) on a base URL of its own (ZAI-FACTS §9.4).
PLAN_REFUSED_ON = {CODING_PLAN_PREFIX: frozenset({"general"}), PAYG_PREFIX: frozenset({"coding", "anthropic"})}


def invalid_key(name: str) -> str:
    """A key refused as invalid, named for its purpose (not a secret)."""
    return f"{name}-{INVALID}-key"


def wrong_plan_key(endpoint: str, name: str) -> str:
    """A key of the plan `endpoint` does not serve: a Coding Plan key on the general endpoint, a
    pay-as-you-go key elsewhere."""
    prefix = next((p for p, refused in PLAN_REFUSED_ON.items() if endpoint in refused), PAYG_PREFIX)
    return prefix + name


def is_invalid(key: str) -> bool:
    return INVALID in key


def wrong_plan(key: str, endpoint: str) -> bool:
    """Whether the key names a plan that the endpoint refuses (429/1113)."""
    return any(key.startswith(prefix) and endpoint in refused for prefix, refused in PLAN_REFUSED_ON.items())


# The keys the harness provokes errors with (`provoke: {key: invalid | wrong-plan}`). Not secrets.
HARNESS = "zai-conformance"
INVALID_KEY = invalid_key(HARNESS)
WRONG_PLAN_KEY = {endpoint: wrong_plan_key(endpoint, HARNESS) for endpoint in ("general", "coding")}
