"""The reworked rules of issue 13 on small hand-made records: a missing sign does not block, a
front line is inferred, a group-local dysfunction is found against its peers, a closed-only
extract's backlog is windowed (docs/adr/0007-diagnosis-evidence-sufficiency-and-contrasts.md)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from itsm_doctor.diagnosis import diagnose, diagnose_examination
from itsm_doctor.engine import Records, records_from_arrow
from itsm_doctor.pathology import load_catalog
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs import compute, get_sign
from itsm_doctor.signs.roles import RolesError, apply_roles, infer_tiers, load_roles

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.table({f.name: [row.get(f.name) for row in rows] for f in schema}, schema=schema)


def _records(tables: dict[str, list[dict[str, Any]]]) -> Records:
    return records_from_arrow({name: _table(name, rows) for name, rows in tables.items()})


def _one(dysfunction: str, values: dict[str, float | None], **kw: Any) -> dict[str, Any]:
    return next(d for d in diagnose(load_catalog(), values=values, **kw) if d["id"] == dysfunction)


# --- a missing sign lowers confidence, never blocks ---------------------------------------


def test_a_missing_sign_does_not_block_the_verdict() -> None:
    values: dict[str, float | None] = {
        "incident.wait_user_near_deadline": None,  # no SLA due dates in this export
        "incident.wait_user_rate": 0.30,  # 0.15 + 3.75 widths: capped, +2
        "incident.wait_user_time_share": 0.10,  # 0.065 + 1.75 widths: capped, +1.5
        "incident.group_parking_excess": 0.60,  # 0.45 + 1 width: +1
    }
    reasons = {"incident.wait_user_near_deadline": "these records have no ticket.due_at nor sla_record nor sla_target"}
    got = _one("wait-user-abuse", values, reasons=reasons)
    # −2.5 + 2 + 1.5 + 1 = 2.0; supporting weight measured 4.5 of 6.5
    assert got["likelihood"] == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-4)
    assert got["verdict"] == "present"
    assert got["confidence"] == pytest.approx(4.5 / 6.5, abs=1e-4)
    assert got["missing"] == [
        {
            "id": "incident.wait_user_near_deadline",
            "role": "for",
            "weight": 2.0,
            "reason": reasons[got["missing"][0]["id"]],
        }
    ]


def test_present_needs_half_the_evidence_weight_and_undetermined_needs_no_discriminating_sign() -> None:
    # change-induced incidents with only its first sign measured: 3 of 7 points of weight
    got = _one("change-induced-incidents", {"incident.change_induced_share": 0.2})
    assert got["likelihood"] == pytest.approx(1 / (1 + math.exp(-(-2.5 + 3.0))), abs=1e-4)
    assert got["confidence"] == pytest.approx(3 / 7, abs=1e-4)
    assert got["verdict"] == "possible"  # strong but partial evidence raises a suspicion, not a verdict
    # a corroborating sign alone (lifecycle conformance is lowered by export gaps) decides nothing
    alone = _one("ungoverned-process", {"process.lifecycle_conformance": 0.5})
    assert alone["verdict"] == "undetermined"
    assert {m["id"] for m in alone["missing"]} == {
        "process.backward_transition_rate",
        "process.skipped_resolution_rate",
        "records.completeness",
    }


def test_the_examination_carries_the_reason_of_a_missing_sign(tmp_path: Path) -> None:
    signs = [
        {"id": "incident.wait_user_near_deadline", "value": None, "reason": "these records have no sla_target"},
        {"id": "incident.wait_user_rate", "value": 0.02},
        {"id": "incident.wait_user_time_share", "value": 0.01},
    ]
    diagnoses, _ = diagnose_examination(signs, None)
    got = next(d for d in diagnoses if d["id"] == "wait-user-abuse")
    assert got["verdict"] == "absent"  # measured evidence speaks against: absent, not undetermined
    assert got["missing"][0] == {
        "id": "incident.wait_user_near_deadline",
        "role": "for",
        "weight": 2.0,
        "reason": "these records have no sla_target",
    }


# --- roles inferred from routing ---------------------------------------------------------


def _routed() -> dict[str, list[dict[str, Any]]]:
    """45 incidents: 40 logged by DESK (15 passed to NET, 5 of those on to VND), 5 logged by
    NET itself. No tier anywhere."""
    tickets, events = [], []
    for i in range(45):
        tid = f"I{i:02d}"
        first = "DESK" if i < 40 else "NET"
        path = [first] + (["NET"] if i < 15 else []) + (["VND"] if i < 5 else [])
        tickets.append(
            {"ticket_id": tid, "ticket_type": "incident", "opened_at": T0, "resolved_at": T0 + timedelta(hours=9)}
        )
        for seq, group in enumerate(path, start=1):
            events.append({"event_id": f"{tid}:{seq}", "ticket_id": tid, "seq": seq, "ts": T0 + timedelta(hours=seq),
                           "kind": "group_change", "to_group_id": group})  # fmt: skip
    groups = [{"group_id": g, "name": f"Group {g}"} for g in ("DESK", "NET", "VND")]
    return {"ticket": tickets, "event": events, "group": groups}


def test_a_front_line_is_inferred_from_who_first_receives_incidents() -> None:
    r = _records(_routed())
    assert compute(get_sign("desk.first_line_only_rate"), r).value is None  # no tier: n/a
    roles = apply_roles(r)
    assert roles.source == "inferred"
    assert roles.tiers == {"DESK": 1, "NET": 2, "VND": 3}
    assert roles.front_line == ("DESK",)
    assert "DESK: 89% of 45" in roles.basis  # 40 of 45 incidents first received by the desk
    # the signs now read the inferred tiers: 25 of 45 incidents never left the front line
    assert compute(get_sign("desk.first_line_only_rate"), r).value == pytest.approx(25 / 45)


def test_a_mapping_file_overrides_the_inference(tmp_path: Path) -> None:
    mapping = tmp_path / "roles.yaml"
    mapping.write_text("tiers:\n  Group DESK: 1\n  NET: 1\n  VND: 2\n", encoding="utf-8")
    r = _records(_routed())
    roles = apply_roles(r, mapping=load_roles(mapping))
    assert roles.source == "mapping" and roles.tiers == {"DESK": 1, "NET": 1, "VND": 2}
    # now only VND is beyond the front line: 5 of 45 incidents reached it
    assert compute(get_sign("desk.first_line_only_rate"), r).value == pytest.approx(40 / 45)
    mapping.write_text("NET: 4\n", encoding="utf-8")
    with pytest.raises(RolesError, match=r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not 4"):
        load_roles(mapping)


def test_tiers_the_export_carries_are_kept_and_few_records_infer_nothing() -> None:
    tables = _routed()
    tables["group"] = [{"group_id": "DESK", "tier": 1}, {"group_id": "NET", "tier": 2}, {"group_id": "VND", "tier": 2}]
    roles = apply_roles(_records(tables))
    assert roles.source == "records" and roles.tiers == {"DESK": 1, "NET": 2, "VND": 2}
    assert infer_tiers({"A": 20, "B": 9}, {"A": [1], "B": [1]})[0] == {}  # 29 incidents: too few
    # a second group logging ≥ 15 % of incidents is front line too
    tiers, front, _ = infer_tiers({"A": 60, "B": 20, "C": 2}, {"A": [1], "B": [1], "C": [1, 2, 3, 3]})
    assert front == ("A", "B") and tiers == {"A": 1, "B": 1, "C": 3}


# --- a group-local dysfunction found against its peers ------------------------------------


def _resolutions(hero_share: int) -> Records:
    """A desk of 20 agents resolving 10 incidents each, and NET, whose 40 incidents are
    resolved ``hero_share`` by 'neo' and the rest evenly by three colleagues."""
    rows = []
    for a in range(20):
        rows += [{"assigned_group_id": "SD", "assignee_id": f"sd{a:02d}"}] * 10
    rows += [{"assigned_group_id": "NET", "assignee_id": "neo"}] * hero_share
    rest = 40 - hero_share
    for a in range(3):
        rows += [{"assigned_group_id": "NET", "assignee_id": f"net{a}"}] * (rest // 3 + (1 if a < rest % 3 else 0))
    tickets = [
        {
            **row,
            "ticket_id": f"T{i:03d}",
            "ticket_type": "incident",
            "opened_at": T0,
            "resolved_at": T0 + timedelta(hours=2),
        }
        for i, row in enumerate(rows)
    ]
    return _records({"ticket": tickets})


def test_a_group_carried_by_one_person_is_found_against_its_peers() -> None:
    sick = _resolutions(30)  # neo: 30 of NET's 40
    values = {
        s: compute(get_sign(s), sick).value
        for s in ("incident.group_key_person_share", "incident.key_person_concentration")
    }
    # organisation-wide, the top 10 % of 24 agents (3: neo 30, two desk agents 10 each) resolve 50 of 240
    assert values["incident.key_person_concentration"] == pytest.approx(50 / 240)
    assert values["incident.group_key_person_share"] == pytest.approx(30 / 40)
    got = _one("key-person-dependency", values)
    # −2.5 + 4 (0.75 is 6 widths past 0.38: capped) − 0.25 (0.208, far below 0.45: −1 × 0.5 weight × 0.5) = 1.25
    assert got["likelihood"] == pytest.approx(1 / (1 + math.exp(-1.25)), abs=1e-4)
    assert got["verdict"] == "possible"
    healthy = _resolutions(10)  # NET shared evenly: 10 each
    h_values = {s: compute(get_sign(s), healthy).value for s in values}
    assert h_values["incident.group_key_person_share"] == pytest.approx(0.25)
    assert _one("key-person-dependency", h_values)["verdict"] == "absent"


# --- a closed-only extract's backlog, windowed --------------------------------------------


def test_a_closed_only_extracts_backlog_is_windowed() -> None:
    """Weeks 0–11 (from Thursday 1 January 2026): 20 incidents a week resolved the same day,
    and k incidents in week k that stay open until a clean-up in week 14, after the last
    arrival. Every incident ends closed. 75 % of incidents end in their week, so one edge week
    is cut at the start and, the extract being closed-only, one before the last arrival:
    weeks 1–10, open at week ends 1, 3, 6, …, 55 — first half 7 on average, second half 37."""
    start = datetime(2026, 1, 2, 10, tzinfo=UTC)  # a Friday
    tickets = []
    for k in range(12):
        day = start + timedelta(weeks=k)
        for i in range(20):
            tickets.append({"ticket_id": f"Q{k}-{i}", "opened_at": day, "resolved_at": day + timedelta(hours=2)})
        for i in range(k):
            tickets.append({"ticket_id": f"S{k}-{i}", "opened_at": day, "resolved_at": start + timedelta(weeks=14)})
    for t in tickets:
        t |= {"ticket_type": "incident", "closed_at": t["resolved_at"]}
    r = _records({"ticket": tickets})
    got = compute(get_sign("incident.backlog_trend"), r)
    assert got.value == pytest.approx(37 / 7 - 1)
    window = got.breakdowns["window"]
    assert window["closed_only"] is True and window["edge_weeks"] == 1
    assert window["last_week"] - window["first_week"] == 9  # weeks 1–10 of 0–11
    dx = _one("backlog-growth", {"incident.backlog_trend": got.value})
    # −2.5 + 3.5 = 1.0 on half the evidence weight (3.5 of 7): possible
    assert dx["likelihood"] == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-4) and dx["verdict"] == "possible"
