from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def examination() -> dict[str, Any]:
    """A small examination in the shape of the JSON contract (DESIGN.md), with hostile text."""
    return {
        "schema": "itsm-doctor/examination/1",
        "patient": "ACME <IT> & Co",
        "visit": {"id": "v1", "at": "2026-06-30T00:00:00+00:00", "period": {"from": "2026-01-01", "to": "2026-06-30"}},
        "records": {"ticket": 1234},
        "intake": [
            {
                "file": "incidents<1>.csv",
                "source": "servicenow",
                "rows_read": 1300,
                "rows_accepted": 1290,
                "rows_quarantined": 10,
                "reasons": {"unparseable_time": 10},
            }
        ],
        "signs": [
            {
                "id": "incident.ping_pong_rate",
                "name": "Ping-pong rate",
                "area": "quality",
                "practice": "incident management",
                "value": 0.18,
                "unit": "ratio",
                "direction": "lower",
                "benchmark": {"good": 0.02, "poor": 0.1, "source": "BPIC 2013 practice"},
                "status": "poor",
                "breakdowns": {"month": {"2026-01": 0.1, "2026-02": 0.15, "2026-03": 0.2, "2026-04": 0.18}},
                "examples": [{"ticket": "INC001", "title": "<script>alert('x')</script> printer on fire"}],
            },
            {
                "id": "incident.mttr",
                "name": "Mean time to resolve",
                "area": "performance",
                "practice": "incident management",
                "value": 61.0,
                "unit": "h",
                "direction": "lower",
                "benchmark": {"good": 8, "poor": 40, "source": "HDI"},
                "status": "poor",
                "breakdowns": {},
            },
            {
                "id": "change.success_rate",
                "name": "Change success rate",
                "area": "quality",
                "practice": "change enablement",
                "value": None,
                "unit": "ratio",
                "direction": "higher",
                "benchmark": {"good": None, "poor": None, "source": "no published benchmark"},
                "status": "n/a",
                "reason": "no change records",
                "breakdowns": {},
            },
        ],
        "diagnoses": [
            {
                "id": "assignment-ping-pong",
                "name": "Assignment ping-pong",
                "verdict": "present",
                "likelihood": 0.91,
                "evidence": [
                    {"kind": "sign", "id": "incident.ping_pong_rate", "value": 0.18, "supports": True},
                    {"kind": "symptom", "id": "nobody-owns-it", "value": 4.5, "supports": True},
                ],
                "causes": [{"id": "no-assignment-rules", "name": "No assignment rules", "likelihood": 0.7}],
            },
            {
                "id": "change-induced-incidents",
                "name": "Change-induced incidents",
                "verdict": "undetermined",
                "likelihood": 0.5,
                "evidence": [],
                "causes": [],
            },
        ],
        "prescriptions": [
            {
                "id": "assignment-matrix",
                "dysfunction": "assignment-ping-pong",
                "cause": "no-assignment-rules",
                "title": "Assignment matrix by service & CI",
                "practice": "incident management",
                "sphere": "department",
                "effort": "medium",
                "moves": ["incident.ping_pong_rate"],
                "follow_up_days": 60,
            },
            {
                "id": "swarming",
                "dysfunction": "assignment-ping-pong",
                "cause": None,
                "title": "Swarm on cross-team tickets",
                "practice": "incident management",
                "sphere": "team",
                "effort": "low",
                "moves": ["incident.ping_pong_rate"],
                "follow_up_days": 30,
            },
        ],
        "process": {
            "status_dfg": [
                {"from": "new", "to": "assigned", "count": 1200, "median_h": 0.5},
                {"from": "assigned", "to": "in_progress", "count": 1100, "median_h": 2.0},
                {"from": "in_progress", "to": "resolved", "count": 1000, "median_h": 20.0},
                {"from": "resolved", "to": "in_progress", "count": 90, "median_h": 30.0},
                {"from": "resolved", "to": "closed", "count": 950, "median_h": 72.0},
            ],
            "handovers": [
                {"from": "Service Desk", "to": "<b>Network</b>", "count": 300},
                {"from": "<b>Network</b>", "to": "Service Desk", "count": 120},
            ],
        },
        "maturity": {
            "practices": {
                "service_desk": {"self": 3, "evidenced": 2},
                "incident_management": {"self": 3, "evidenced": 2},
                "problem_management": {"self": 2, "evidenced": 1},
            }
        },
    }


@pytest.fixture
def followup() -> dict[str, Any]:
    return {
        "effects": [
            {
                "prescription": "assignment-matrix",
                "title": "Assignment matrix by service & CI",
                "sign": "incident.ping_pong_rate",
                "unit": "ratio",
                "before": 0.18,
                "after": 0.05,
                "p_value": 0.0004,
                "test": "two-proportion z-test",
                "verdict": "healing",
            }
        ],
        "control_charts": [
            {
                "sign": "incident.ping_pong_rate",
                "title": "Ping-pong rate by month",
                "unit": "ratio",
                "chart": {
                    "kind": "p",
                    "labels": ["2026-01", "2026-02", "2026-03"],
                    "values": [0.1, 0.12, 0.3],
                    "center": 0.17,
                    "lower": [0.06, 0.06, 0.06],
                    "upper": [0.28, 0.28, 0.28],
                    "signals": [{"index": 2, "rule": "beyond_3_sigma"}],
                },
            }
        ],
        "trends": [
            {
                "sign": "incident.mttr",
                "title": "MTTR by visit",
                "unit": "h",
                "labels": ["v1", "v2"],
                "values": [61.0, 40.0],
            }
        ],
    }
