"""The verdict vocabulary (DESIGN.md) and how findings combine into one verdict per cell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    PASS = "PASS"
    DEVIATION = "DEVIATION"  # works, but differs from the OpenAI/Anthropic contract or Z.AI's docs
    FAIL = "FAIL"
    UNSUPPORTED = "UNSUPPORTED"  # documented as not supported and refused clearly
    BLOCKED = "BLOCKED"  # account / plan / quota
    TRANSIENT = "TRANSIENT"  # concurrency, overload, 5xx, network
    HANG = "HANG"  # no byte within the idle limit
    SKIPPED = "SKIPPED"  # no key, or not applicable
    NOT_RECORDED = "NOT_RECORDED"  # replay with no evidence


# A cell that ran to completion gets the worst severity among its findings.
class Severity(StrEnum):
    INFO = "info"  # worth knowing; does not change the verdict
    DEVIATION = "deviation"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    turn: int | None = None
    side: str = "response"  # request | response

    def to_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "turn": self.turn,
            "side": self.side,
        }


def combine(findings: Iterable[Finding]) -> Verdict:
    severities = {finding.severity for finding in findings}
    if Severity.FAIL in severities:
        return Verdict.FAIL
    if Severity.DEVIATION in severities:
        return Verdict.DEVIATION
    return Verdict.PASS


def reasons(findings: Iterable[Finding]) -> list[str]:
    """The findings that carry the verdict, worst first, as human sentences."""
    ranked = sorted(
        (f for f in findings if f.severity is not Severity.INFO),
        key=lambda f: f.severity is not Severity.FAIL,
    )
    return [_sentence(f) for f in ranked]


def _sentence(finding: Finding) -> str:
    where = f"turn {finding.turn + 1}: " if finding.turn is not None else ""
    return f"{where}{finding.message}"
