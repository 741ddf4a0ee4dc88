"""Classify an error a client raised into a verdict: who is at fault, and will it pass on retry?

BLOCKED (account, plan, quota) and TRANSIENT (concurrency, overload, 5xx, network) are not the
path's failure; HANG is a stream that stopped talking; UNSUPPORTED is a clear, client-side refusal
of something the client documents it does not take. Everything else is FAIL.
"""

from __future__ import annotations

from conformance.catalogue import ErrorExpectation
from conformance.observation import ErrorInfo
from conformance.protocol import error_classes
from conformance.verdict import Finding, Severity, Verdict
from conformance.wire import WireAnswer

_UNSUPPORTED_NAMES = ("unsupportedparams", "unsupported_params", "notimplemented", "unknownprovider")


def classify(error: ErrorInfo, sent: bool, proxied: bool = False) -> tuple[Verdict, str]:
    """Verdict and a one-line reason for an error; `sent` says whether any request reached the wire
    (Z.AI), `proxied` whether the client reached a local server it talks through (the proxy)."""
    classes = error_classes()
    what = _describe(error)
    if not sent and not error.timeout:
        # Nothing reached Z.AI: whatever status the exception claims (LiteLLM wraps its own TypeError
        # as an HTTP 500), Z.AI did not say it.
        who = "the proxy" if proxied else "the client"
        if any(name in error.exception.lower() for name in _UNSUPPORTED_NAMES):
            return Verdict.UNSUPPORTED, f"refused by {who} before sending: {what}"
        if proxied:
            return Verdict.FAIL, f"the proxy failed before sending anything to Z.AI: {what}"
        return Verdict.FAIL, f"the client raised before sending anything: {what}"
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


def check_expected_error(
    expect: ErrorExpectation,
    error: ErrorInfo | None,
    wire: WireAnswer | None,
    sent: bool,
) -> list[Finding]:
    """A scenario that provokes an error asks: does the user get an exception they can act on? The
    path passes when it raises, the HTTP status and Z.AI's business code can still be read from the
    exception, and the error belongs to the class Z.AI's docs give it (account, retry, or a fault in
    the request). What Z.AI really sent (`wire`) says who lost what."""
    if error is None:
        sent_note = f" (Z.AI answered HTTP {wire.status})" if wire is not None else ""
        return [Finding("error", Severity.FAIL, f"no exception: expected {_expected(expect)} to surface{sent_note}")]
    verdict, why = classify(error, sent=True)  # some server answered: Z.AI, or the path's own proxy
    findings = [Finding("error", Severity.INFO, f"raised {why} (reads as {verdict.value})")]
    if expect.verdict == "HANG":
        if verdict is not Verdict.HANG:
            findings.append(Finding("error", Severity.FAIL, f"expected the client's timeout; got {_describe(error)}"))
        return findings
    if not expect.sent:
        if sent:
            findings.append(
                Finding("error", Severity.FAIL, "the client sent the request it should have refused itself")
            )
        else:
            findings.append(Finding("error", Severity.INFO, "refused by the client itself; nothing was sent"))
    elif not sent:  # the caller knows the client did reach a server of its own (the proxy), which answered
        findings.append(
            Finding("error", Severity.INFO, f"answered HTTP {error.status} by the path's own server, not by Z.AI")
        )
    if expect.status is not None and error.status != expect.status:
        wire_status = f"; Z.AI sent HTTP {wire.status}" if wire is not None else ""
        findings.append(
            Finding(
                "error_status",
                Severity.DEVIATION,
                f"the exception carries HTTP {error.status}, not {expect.status}{wire_status}",
            )
        )
    if expect.code is not None and error.code != expect.code:
        sent_code = wire.error_code if wire is not None else None
        who = f"Z.AI sent code {sent_code}; the path lost it" if sent_code == expect.code else f"Z.AI sent {sent_code}"
        findings.append(
            Finding("error_code", Severity.DEVIATION, f"code {expect.code} not readable from the exception ({who})")
        )
    sent_message = (wire.error_message or "").strip() if wire is not None and wire.error_envelope else ""
    if sent_message and _core(sent_message) not in " ".join(error.message.split()):
        findings.append(
            Finding(
                "error_message", Severity.DEVIATION, f"Z.AI's message {sent_message[:100]!r} is not in the exception"
            )
        )
    if verdict.value != expect.verdict:
        findings.append(
            Finding(
                "error_class",
                Severity.DEVIATION,
                f"the exception reads as {verdict.value}; Z.AI's {_expected(expect)} is {expect.verdict}",
            )
        )
    return findings


def _expected(expect: ErrorExpectation) -> str:
    if expect.status is None:
        return "timeout"
    return f"HTTP {expect.status}" + (f" / {expect.code}" if expect.code else "")


def _core(message: str) -> str:
    """The part of Z.AI's message a client can be expected to keep: the text inside the Anthropic
    surface's `[code][text][request id]` frame, or the message itself; whitespace folded."""
    parts = [p for p in message.strip("[]").split("][") if p]
    core = parts[1] if message.startswith("[") and len(parts) >= 2 else message
    return " ".join(core.split())[:60]
