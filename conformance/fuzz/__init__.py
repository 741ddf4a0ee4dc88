"""Translation fuzzing: generated scenarios go through every client path against the Z.AI double, and
two properties are asserted of each — what reaches the wire says what the scenario says (up to the
path's documented translations, conformance/data/translations.yaml), and what the path exposes says
what the wire said. The hypothesis strategies live in `strategies` (a test dependency); everything
else here runs without hypothesis, so a shrunk case replays from its one-line JSON alone
(`python -m conformance.fuzz --path … --case '…'`)."""
