"""A run's record mode, in pytest-recording's words, and what it means for each cell.

pytest users know `--record-mode none|once|new_episodes|all|rewrite` and `--block-network` from
pytest-recording (and the record modes from vcrpy). The harness speaks the same words with the same
meanings, mapped onto its own evidence (conformance/recording/evidence.py):

    none          replay only, never record: live > public recordings, else the double (the default)
    once          record the cells that have no live recording yet; replay the rest (saves quota)
    new_episodes  replay what a cell's live cassette holds, record the requests it lacks, append them
    all           record every selected cell (`--live` is this); a worse new recording keeps the older one
    rewrite       record every selected cell; the new recording replaces the old whatever it holds

Why the harness does not use pytest-recording itself (it is maintained, on PyPI, and also built on
vcrpy): its unit is a test function marked `@pytest.mark.vcr`, with one cassette per test named after
the test module, handed to vcrpy's `use_cassette`. A cell here is not a marked test and its cassette is
not named after one: the evidence store picks it (live, else public — read in place from a corpus
archive —, else the double, served at run time), records into a scratch file that becomes the cassette
only when it is not worse evidence, in the project's own cassette format with provenance, scrubbed
before anything touches disk, with transport faults recorded and a local proxy passed through. The
same run is also started without pytest's command line (`zai-conformance run`). And its
`--block-network` refuses loopback too unless hosts are allowed one by one, while every replay here
needs loopback (the LiteLLM proxy, the double, a relay for an agent's CLI). So only the vocabulary
is shared; `conformance.options` decides when the bare spellings can be the harness's.
"""

from __future__ import annotations

from enum import Enum, StrEnum


class RecordMode(StrEnum):
    """What a run does with the network and the cassettes, as pytest-recording's --record-mode says it."""

    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"
    REWRITE = "rewrite"

    @property
    def records(self) -> bool:
        """The run may call the endpoints with the key and write live cassettes."""
        return self is not RecordMode.NONE

    @property
    def run_mode(self) -> str:
        """The run's mode as results.json's `run.mode` has always said it (the results schema allows these
        two): "replay" — offline, nothing recorded — for none; "live" — the key is used, cassettes are
        written — for every mode that records. `run.record_mode` says which."""
        return "replay" if self is RecordMode.NONE else "live"

    @property
    def run_id_part(self) -> str:
        """The mode as the run's id (its directory under runs/, shown in the report's header) spells it:
        replay, live (all, `--live`), live-once, live-new_episodes, live-rewrite."""
        if self in (RecordMode.NONE, RecordMode.ALL):
            return self.run_mode
        return f"live-{self.value}"


class CellPlan(Enum):
    """What the runner does with one cell under the run's record mode."""

    REPLAY = "replay"  # serve it from its evidence on disk, or from the double
    RECORD = "record"  # record it anew; the new recording replaces the old unless it is worse evidence
    EXTEND = "extend"  # replay its live cassette, record what the cassette lacks, append it
    REWRITE = "rewrite"  # record it anew; the new recording replaces the old whatever it holds

    @property
    def records(self) -> bool:
        """The cell calls its endpoint with the key (some of its requests at least)."""
        return self is not CellPlan.REPLAY


def plan_for(mode: RecordMode, *, has_live: bool, replays_evidence: bool) -> CellPlan:
    """The plan for a cell, from the run's mode, whether the cell has a live recording, and whether its
    path replays recorded evidence at all (an agent's CLI does not: its requests carry session ids and
    temporary paths, so its live recording is kept as a record and replay has the double answer it —
    appending to such a recording would only ever append the whole conversation again)."""
    if mode is RecordMode.NONE:
        return CellPlan.REPLAY
    if mode is RecordMode.ONCE:
        return CellPlan.REPLAY if has_live else CellPlan.RECORD
    if mode is RecordMode.NEW_EPISODES:
        return CellPlan.EXTEND if has_live and replays_evidence else CellPlan.RECORD
    if mode is RecordMode.REWRITE:
        return CellPlan.REWRITE
    return CellPlan.RECORD
