"""`python -m conformance.fuzz --path PATH --case JSON`: replay one fuzz case (the line a failing fuzz
test prints) through one client path against the in-process double, and print every difference with
what the ledger makes of it. Exit status 1 when a new one remains."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports LiteLLM


def main(argv: list[str] | None = None) -> int:
    from conformance.fuzz.case import FuzzCase
    from conformance.fuzz.drive import run_case
    from conformance.fuzz.findings import ledger
    from conformance.fuzz.properties import all_differences

    parser = argparse.ArgumentParser(prog="python -m conformance.fuzz", description=__doc__)
    parser.add_argument("--path", required=True, help="a client path id of the catalogue (e.g. zai-sdk)")
    parser.add_argument("--case", required=True, help="the case, as the one line of JSON a finding prints")
    args = parser.parse_args(argv)
    case = FuzzCase.from_json(args.case)
    run = run_case(args.path, case)
    verdicts = ledger().classify(args.path, case, all_differences(run, case))
    for difference in verdicts.translated:
        print(f"translation  {difference.describe()}")
    for known, difference in verdicts.known:
        print(f"known:{known.id}  {difference.describe()}")
    for difference in verdicts.new:
        print(f"NEW  {difference.describe()}")
    if not (verdicts.translated or verdicts.known or verdicts.new):
        print(f"{args.path}: the wire says what the case says, and the path exposes what the wire said")
    return 1 if verdicts.new else 0


if __name__ == "__main__":
    sys.exit(main())
