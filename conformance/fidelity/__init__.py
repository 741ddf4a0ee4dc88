"""How faithful the Z.AI double is: every real recording of a corpus replayed against it, shapes compared.

- `corpus/`: the real exchanges of a corpus folder, one loader per capture format;
- `reconstruct.py`: the request a capture without one must have been;
- `grammar.py`: the grammar of an OpenAI-style stream (chunk kinds and their pattern), pure;
- `compare.py`: the pure shape comparison of a real response and the double's, strict by default;
- `measure.py`: asking the running double and scoring it per folder, era and newest recording
  (`zai-conformance fidelity`);
- `features.py` and `history.py`: the wire features of each real response, and when each was seen per
  model (`zai-conformance wire-history`).

Per-file exceptions (what not to compare, and why) and the triggers that ask the double for each
real error live in `data/fidelity.yaml`. The double itself knows nothing of this package.
"""

from __future__ import annotations

from pathlib import Path

# The corpus measured when none is named: the copy of the public recordings that ships with the tests.
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "zai-recordings"
