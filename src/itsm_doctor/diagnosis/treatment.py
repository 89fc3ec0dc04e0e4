"""Prescriptions for what was found, ranked by expected effect and effort, within a sphere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from itsm_doctor.pathology import Catalog

__all__ = ["SPHERES", "prescribe"]

SPHERES = ("team", "department", "enterprise")
_EFFORT = {"low": 1.0, "medium": 2.0, "high": 3.0}


def prescribe(
    catalog: Catalog, diagnoses: Sequence[dict[str, Any]], *, sphere: str = "enterprise"
) -> list[dict[str, Any]]:
    """Prescriptions of present and possible dysfunctions a user of ``sphere`` can act on:
    a team acts on team remedies, a department on team and department ones, the enterprise
    on all. Ranked by sphere (what you can do now first), then expected effect ÷ effort."""
    if sphere not in SPHERES:
        raise ValueError(f"unknown sphere {sphere!r}; use one of {', '.join(SPHERES)}")
    reach = SPHERES.index(sphere)
    out = []
    for dx in diagnoses:
        if dx["verdict"] not in ("present", "possible"):
            continue
        d = catalog.get(dx["id"])
        cause_likelihood = {c["id"]: c["likelihood"] for c in dx["causes"]}
        for p in d.prescriptions:
            if SPHERES.index(p.sphere) > reach:
                continue
            effect = dx["likelihood"] * (cause_likelihood.get(p.cause, 0.5) * 2 if p.cause else 1.0)
            out.append(
                {
                    "id": p.id,
                    "dysfunction": d.id,
                    "cause": p.cause,
                    "title": p.title,
                    "practice": p.practice,
                    "sphere": p.sphere,
                    "effort": p.effort,
                    "owner": p.owner,
                    "actions": list(p.actions),
                    "moves": [m.sign for m in p.moves],
                    "directions": {m.sign: m.direction for m in p.moves},
                    "follow_up_days": p.follow_up_days,
                    "expected_effect": round(min(effect, 1.0), 4),
                }
            )
    out.sort(key=lambda p: (SPHERES.index(p["sphere"]), -p["expected_effect"] / _EFFORT[p["effort"]], p["id"]))
    return out
