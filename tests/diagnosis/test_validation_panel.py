"""A small version of `make validate`: simulated patients on fresh seeds are diagnosed right."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PANEL = Path(__file__).parents[2] / "validation" / "panel.py"
_spec = importlib.util.spec_from_file_location("validation_panel", PANEL)
assert _spec is not None and _spec.loader is not None
panel = importlib.util.module_from_spec(_spec)
sys.modules["validation_panel"] = panel
_spec.loader.exec_module(panel)


def test_small_panel(tmp_path: Path) -> None:
    truths = [
        {},
        {"assignment-ping-pong": 0.8},
        {"wait-user-abuse": 0.7, "premature-resolution": 0.6},
        {"desk-role-ambiguity": 0.9, "change-induced-incidents": 0.7},
        {"push-to-front-failure": 0.8, "problem-management-absent": 0.8},
    ]
    results = [(t, panel.examine_patient(t, 9_500 + i, 2_000, tmp_path)) for i, t in enumerate(truths)]
    for truth, dx in results:
        called = {d["id"] for d in dx if d["verdict"] in ("present", "possible")}
        assert set(truth) <= called, (truth, called)
        present = {d["id"] for d in dx if d["verdict"] == "present"}
        assert present <= set(truth), (truth, present)
    summary = panel.score(results)
    assert summary["healthy_with_present"] == 0
