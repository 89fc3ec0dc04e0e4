"""The diagnosis engine's every rule checked on values away from the caps, each number worked
out by hand in the comments from the catalog's priors, thresholds, widths and weights
(src/itsm_doctor/pathology/catalog/*.yaml). Likelihoods and confidences are compared exactly:
the diagnosis rounds them to four places, and the rounding is part of what it reports.

The rules: score = prior + Σ weight × strength; strength = (value − above) ÷ width or
(below − value) ÷ width, capped at ±1, the negative side times ``against``; a symptom's strength
is (mean agreement − 3) ÷ 2; likelihood = 1 / (1 + e^−score) (engine.py, docs/adr/0003 and 0007).
"""

from __future__ import annotations

import math
from typing import Any

from itsm_doctor.diagnosis import diagnose
from itsm_doctor.pathology import Catalog, load_catalog


def _one(dysfunction: str, values: dict[str, float | None], catalog: Catalog | None = None, **kw: Any) -> dict[str, Any]:
    return next(d for d in diagnose(catalog or load_catalog(), values=values, **kw) if d["id"] == dysfunction)


def test_neutral_partial_evidence_is_undetermined_and_leaning_against_is_absent() -> None:
    # assignment-ping-pong (prior −2.5) reads ping-pong (weight 4), the pair share (1.5) and the
    # mean reassignments (1, corroborating): supporting weight 6.5. Only the pair share measured,
    # exactly at its threshold 0.30: strength 0, total 0, likelihood 1/(1+e^2.5) = 0.0759,
    # confidence 1.5/6.5 = 0.2308. The evidence neither leans against the dysfunction nor covers
    # half its weight: undetermined, not absent (docs/adr/0007).
    at = _one("assignment-ping-pong", {"incident.pair_ping_pong_share": 0.30})
    assert (at["verdict"], at["likelihood"], at["confidence"]) == ("undetermined", 0.0759, 0.2308)
    # 0.27: (0.27 − 0.30)/0.15 = −0.2 × 1.5 = −0.3; score −2.8, likelihood 1/(1+e^2.8) = 0.0573:
    # the little evidence there is speaks against it, which clears it
    below = _one("assignment-ping-pong", {"incident.pair_ping_pong_share": 0.27})
    assert (below["verdict"], below["likelihood"], below["confidence"]) == ("absent", 0.0573, 0.2308)
    assert below["evidence"][0]["contribution"] == -0.3 and below["evidence"][0]["supports"] is False
