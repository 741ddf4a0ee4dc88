"""Classify an error a client raised into a verdict: who is at fault, and will it pass on retry?

BLOCKED (account, plan, quota) and TRANSIENT (concurrency, overload, 5xx, network) are not the
path's failure; HANG is a stream that stopped talking; UNSUPPORTED is a clear, client-side refusal
of something the client documents it does not take. Everything else is FAIL.
"""

from __future__ import annotations

from conformance.observation import ErrorInfo
from conformance.protocol import error_classes
from conformance.verdict import Verdict

_UNSUPPORTED_NAMES = ("unsupportedparams", "unsupported_params", "notimplemented")


def classify(error: ErrorInfo, sent: bool) -> tuple[Verdict, str]:
    """Verdict and a one-line reason for an error; `sent` says whether any request reached the wire."""
    classes = error_classes()
    what = _describe(error)
    if error.code in classes.blocked:
        return Verdict.BLOCKED, f"{what} — {classes.blocked[error.code]}"
    if error.code in classes.transient:
        return Verdict.TRANSIENT, f"{what} — {classes.transient[error.code]}"
    if error.timeout:
        return Verdict.HANG, f"{what} — no byte within the idle limit"
    if error.status is not None and error.status >= 500:
        return Verdict.TRANSIENT, f"{what} — server error"
    if error.status == 429:
        return Verdict.TRANSIENT, f"{what} — rate limited (no known business code)"
    if error.network and error.status is None and sent:
        return Verdict.TRANSIENT, f"{what} — network"
    if not sent and any(name in error.exception.lower() for name in _UNSUPPORTED_NAMES):
        return Verdict.UNSUPPORTED, f"refused by the client before sending: {what}"
    if not sent:
        return Verdict.FAIL, f"the client raised before sending anything: {what}"
    return Verdict.FAIL, what


def _describe(error: ErrorInfo) -> str:
    parts = [error.exception.rsplit(".", 1)[-1]]
    if error.status is not None:
        parts.append(f"HTTP {error.status}")
    if error.code is not None:
        parts.append(f"code {error.code}")
    message = " ".join(error.message.split())  # whole message, on one line: advice often follows a break
    if len(message) > 400:
        message = message[:399] + "…"
    return f"{' '.join(parts)}: {message}" if message else " ".join(parts)
