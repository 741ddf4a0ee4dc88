"""Where a cell's evidence lives, and which evidence wins when several exist.

    cassettes/live/<endpoint>/<model>/<path>/<scenario>.yaml    recorded here, by this path, with a key
    cassettes/public/<endpoint>/<model>/<scenario>.yaml         a real Z.AI recording by another project
    (nothing on disk)                                           the Z.AI double, answering at run time

Public recordings are path-independent (another client made them; every path is fed the same real
bytes). Precedence is live > public > double: real bytes always beat synthetic ones, and this
path's own recording beats another client's. A cell with neither is served by the double at run time
(conformance/recording/served.py), so it is judged on what the installed client sends today.

A live run records each cell to a scratch file next to its cassette, then asks the store whether the
new recording replaces the old one: good evidence is never traded for worse (`EvidenceStore.keep`) —
unless the run's record mode is rewrite (`EvidenceStore.replace`). Under new_episodes the scratch file
starts as a copy of the live cassette and the run appends what it lacks (`EvidenceStore.extension`).
A key Z.AI refuses is recognised here too (`refused_key`): such a recording is never kept.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance import __version__
from conformance.catalogue import Cell
from conformance.observation import Exchange
from conformance.protocol import error_classes
from conformance.recording import cassette
from conformance.secrets import SCRUBBER
from conformance.verdict import Verdict
from conformance.wire import read_answer

KINDS = ("live", "public")  # evidence kept on disk, in precedence order (double evidence is served)
REAL_KINDS = frozenset({"live", "public"})
# exchanges answered from evidence (a recording, or the double at run time), as against a live call
USED = frozenset({"replayed", "served"})
# A new recording with one of these verdicts met a quota, an overload or a hang: any older one is better.
KINDS_NOT_OVERWRITTEN = frozenset({Verdict.TRANSIENT, Verdict.BLOCKED, Verdict.HANG})


@dataclass(frozen=True)
class EvidenceFile:
    kind: str
    path: Path

    def evidence(self, provenance: dict[str, Any], exchanges: Sequence[Exchange]) -> dict[str, Any]:
        """What a replay of this file gives as the cell's evidence: kind, cassette, provenance, and
        whether the path used it (a client that refused before sending used none)."""
        return {
            "kind": self.kind,
            "cassette": display_path(self.path),
            "provenance": provenance,
            "used": any(e.outcome in USED for e in exchanges),
        }


def served_provenance(cell: Cell, *, clients: dict[str, str]) -> dict[str, Any]:
    """What a cell served by the double at run time says about its bytes: synthetic, and by whom."""
    return {
        "kind": "double",
        "served": f"at run time by the zai-conformance {__version__} double",
        "synthetic": f"produced by the zai-conformance {__version__} double, not by Z.AI",
        "clients": clients,
        "endpoint": cell.endpoint.id,
        "model": cell.model.id,
        "path": cell.path.id,
        "scenario": cell.scenario.id,
    }


def served_evidence(provenance: dict[str, Any], exchanges: Sequence[Exchange]) -> dict[str, Any]:
    """A served cell's evidence: kind double, no cassette (nothing is on disk), used when the path sent."""
    return {
        "kind": "double",
        "cassette": None,
        "provenance": provenance,
        "used": any(e.outcome in USED for e in exchanges),
    }


@dataclass(frozen=True)
class NewRecording:
    """A live recording under way: the scratch file it is written to, the cassette it becomes if kept,
    and what it says about itself (its provenance)."""

    kind: str
    final: Path
    scratch: Path
    provenance: dict[str, Any]

    def discard(self) -> None:
        self.scratch.unlink(missing_ok=True)

    def evidence(self, kept: Kept, exchanges: Sequence[Exchange]) -> dict[str, Any] | None:
        """What this recording gives as the cell's evidence: None when it was not kept and nothing was
        sent (then there is nothing to point at)."""
        sent = any(e.outcome == "recorded" for e in exchanges)
        if not (kept.kept or sent):
            return None
        return {
            "kind": self.kind,
            "cassette": display_path(self.final) if kept.kept else None,
            "provenance": {**self.provenance, "kept": kept.kept},
            # an extended cassette (new_episodes) also answers from what it held already
            "used": sent or any(e.outcome in USED for e in exchanges),
        }


@dataclass(frozen=True)
class Kept:
    """What the store did with a new recording: kept it as the cell's cassette, or kept the older one
    (`reason` says why, for the cell's reasons)."""

    kept: bool
    reason: str | None = None


@dataclass(frozen=True)
class KeyRefusal:
    """Z.AI refused the run's key: HTTP status, business code and what the code means."""

    status: int
    code: str
    meaning: str


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def location(self, kind: str, cell: Cell) -> Path:
        endpoint, model, path, scenario = cell.endpoint.id, cell.model.id, cell.path.id, cell.scenario.id
        if kind == "public":
            return self.root / "public" / endpoint / model / f"{scenario}.yaml"
        if kind == "live":
            return self.root / kind / endpoint / model / path / f"{scenario}.yaml"
        raise ValueError(f"unknown evidence kind {kind!r} (known: {', '.join(KINDS)})")

    def find(self, cell: Cell) -> EvidenceFile | None:
        """The best evidence on disk; a recorded conversation's public evidence is its recording, read
        in place from the corpus archive (a path-independent real recording, like any public one)."""
        live = self.location("live", cell)
        if live.is_file():
            return EvidenceFile("live", live)
        if cell.scenario.recorded is not None:
            return EvidenceFile("public", Path(cell.scenario.recorded.evidence))
        public = self.location("public", cell)
        return EvidenceFile("public", public) if public.is_file() else None

    def new_recording(
        self, kind: str, cell: Cell, base_url: str, *, recorded: str, clients: dict[str, str]
    ) -> NewRecording:
        """Where a live run records this cell to (a scratch file of this process, next to the cassette,
        so a run that dies leaves the old cassette whole), and the provenance the recording carries:
        when (`recorded`), by which client versions (`clients`), against which target."""
        final = self.location(kind, cell)
        scratch = final.with_name(f".{final.stem}.recording-{os.getpid()}.yaml")
        scratch.unlink(missing_ok=True)
        provenance: dict[str, Any] = {
            "kind": kind,
            "recorded": recorded,
            "recorded_by": f"zai-conformance {__version__}",
            "clients": clients,
            "endpoint": cell.endpoint.id,
            "endpoint_url": SCRUBBER.url(base_url),
            "target_is_zai": is_zai(base_url),
            "model": cell.model.id,
            "path": cell.path.id,
            "scenario": cell.scenario.id,
        }
        if kind == "double":
            provenance["synthetic"] = f"produced by the zai-conformance {__version__} double, not by Z.AI"
        return NewRecording(kind, final, scratch, provenance)

    def extension(self, cell: Cell, base_url: str, *, recorded: str, clients: dict[str, str]) -> NewRecording:
        """new_episodes: a scratch copy of the cell's live cassette that the run appends to, and the
        provenance it will carry — the old one, with this episode added (when, by which clients, against
        which target). The cassette is only real Z.AI bytes if every episode was recorded from Z.AI.
        CorruptCassette if the live cassette cannot be read (it is never appended to blind)."""
        final = self.location("live", cell)
        old = cassette.read(final)["provenance"]
        episode = self.new_recording("live", cell, base_url, recorded=recorded, clients=clients)
        episode_facts = {key: episode.provenance[key] for key in _EPISODE_FACTS}
        provenance = {
            **old,
            "target_is_zai": old.get("target_is_zai", True) is not False and episode_facts["target_is_zai"],
            "new_episodes": [*old.get("new_episodes", []), episode_facts],
        }
        shutil.copyfile(final, episode.scratch)
        return NewRecording("live", final, episode.scratch, provenance)

    def replace(self, recording: NewRecording) -> Kept:
        """rewrite: the new recording becomes the cell's cassette whatever it holds — a quota, a hang, or
        nothing sent at all; the old interactions are gone. (A key Z.AI refuses never gets here: that is
        the run's fault, not the cell's, and the older recording stays — see `refused_key`.)"""
        if not recording.scratch.exists():
            recording.final.unlink(missing_ok=True)
            return Kept(False, f"--record-mode rewrite: nothing was recorded; {display_path(recording.final)} removed")
        os.replace(recording.scratch, recording.final)
        return Kept(True)

    def keep_extension(
        self, recording: NewRecording, cell: Cell, verdict: Verdict, exchanges: Sequence[Exchange]
    ) -> Kept:
        """new_episodes: the extended cassette replaces the old one when the run appended something and
        is not worse evidence (`keep`); when every request was answered from the cassette, nothing
        changed and the cassette stays as it was."""
        if not any(e.outcome == "recorded" for e in exchanges):
            recording.discard()
            return Kept(True)
        return self.keep(recording, cell, verdict, exchanges)

    def keep(self, recording: NewRecording, cell: Cell, verdict: Verdict, exchanges: Sequence[Exchange]) -> Kept:
        """Make the new recording the cell's cassette, unless an older one is better evidence: any
        older recording beats one in which the client sent nothing, one that only met a quota, an
        overload or a hang, and one refused for its content once. A recording with nothing sent is
        kept when there is no older one: it documents that the client refused (and replay shows it
        again, or shows that it changed)."""
        if not recording.scratch.exists():
            return Kept(False)
        worse = _worse(cell, verdict, exchanges)
        if recording.final.exists() and worse is not None:
            recording.scratch.unlink()
            return Kept(False, f"previous recording kept ({worse}): {display_path(recording.final)}")
        os.replace(recording.scratch, recording.final)
        return Kept(True)


# what one new_episodes run says about the interactions it appended to a live cassette
_EPISODE_FACTS = ("recorded", "recorded_by", "clients", "endpoint_url", "target_is_zai")


def refused_key(cell: Cell, exchanges: Sequence[Exchange]) -> KeyRefusal | None:
    """Z.AI refused the run's key in this recording — a property of the run, not of the cell, so the
    recording is never kept — unless the cell sends a key of its own to provoke exactly that."""
    refusal = _refusal(exchanges)
    if refusal is None or provokes_key(cell):
        return None
    status, code = refusal
    meaning = error_classes().key_refused.get(code)
    return KeyRefusal(status, code, meaning) if meaning is not None else None


def provokes_key(cell: Cell) -> bool:
    """The cell sends a key of its own (invalid, or of the wrong plan) to provoke a refusal."""
    return cell.scenario.provoke is not None and cell.scenario.provoke.key is not None


def is_zai(url: str) -> bool:
    """The target is Z.AI itself (not the double, a fake or a proxy): its bytes are real evidence."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "z.ai" or host.endswith(".z.ai")


def display_path(path: Path) -> str:
    """A cassette's path as results show it: relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _worse(cell: Cell, verdict: Verdict, exchanges: Sequence[Exchange]) -> str | None:
    """Why a new recording is worse evidence than any older one, or None when it is not."""
    refusal = _refusal(exchanges)
    if refusal is not None and refusal[1] in error_classes().one_off and not _provokes(cell, refusal[1]):
        return f"a one-off refusal, code {refusal[1]}, this time"
    sent = any(e.outcome == "recorded" for e in exchanges)
    if not sent or verdict in KINDS_NOT_OVERWRITTEN:
        return f"{verdict.value} this time"
    return None


def _refusal(exchanges: Sequence[Exchange]) -> tuple[int, str] | None:
    """The first error Z.AI itself answered in this recording: (HTTP status, business code)."""
    for exchange in exchanges:
        if exchange.outcome == "recorded" and exchange.status is not None and exchange.status >= 400:
            wire = read_answer(exchange.status, exchange.response_body, exchange.response_headers, exchange.url)
            if wire.error_code is not None:
                return exchange.status, str(wire.error_code)
    return None


def _provokes(cell: Cell, code: str) -> bool:
    """The scenario asks for this error code on this cell (then getting it is good evidence)."""
    expect, _ = cell.scenario.expectations(cell.endpoint, cell.model)
    return any(turn.error is not None and turn.error.code == code for turn in expect)
