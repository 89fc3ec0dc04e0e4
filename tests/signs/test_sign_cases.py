"""Every sign against hand-computed cases: tests/signs/cases/<sign id>.yaml.

A case starts from the tiny log in base_log.yaml (``base: true``, the default) or from
nothing (``base: false``), then ``drop``s whole tables, ``add``s rows. A row with
``repeat: N`` stands for N rows whose ``ticket_id`` gets the suffix ``-0`` … ``-N-1``.
``expected`` is the headline value (compared to 1e-9) or ``n/a``; an n/a case names its
``reason`` (the start of the finding's reason, which must say why the records cannot show the sign).
``n`` is the number of tickets (or other units) measured, when given; ``breakdowns`` (a value
or n/a case) the breakdowns to compare, ``note`` the start of the finding's note (``null``: no note).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from itsm_doctor.engine import records_from_arrow
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs import SIGNS, base, compute, compute_all, examine_signs, get_sign
from itsm_doctor.signs.common import ratio_finish, time_share_summary

HERE = Path(__file__).parent
CASES = HERE / "cases"


@cache
def base_log() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = yaml.safe_load((HERE / "base_log.yaml").read_text(encoding="utf-8"))
    return data


def _expand(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        n = row.get("repeat")
        if n is None:
            out.append(row)
            continue
        for i in range(int(n)):
            copy_ = {k: v for k, v in row.items() if k != "repeat"}
            copy_["ticket_id"] = f"{row['ticket_id']}-{i}"
            out.append(copy_)
    return out


def _value(field: pa.Field, value: Any) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(field.type):
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    if pa.types.is_string(field.type):
        return str(value)
    return value


def build_tables(case: dict[str, Any]) -> dict[str, pa.Table]:
    rows: dict[str, list[dict[str, Any]]] = copy.deepcopy(base_log()) if case.get("base", True) else {}
    for table in case.get("drop", []):
        rows.pop(table, None)
    for table, extra in (case.get("add") or {}).items():
        rows.setdefault(table, []).extend(extra)
    tables = {}
    for name, items in rows.items():
        schema = SCHEMAS[name]
        items = _expand(items)
        for i, item in enumerate(items):
            if name == "event":
                item.setdefault("event_id", f"{item['ticket_id']}:{item.get('seq', i)}")
        cols = {f.name: [_value(f, item.get(f.name)) for item in items] for f in schema}
        tables[name] = pa.table(cols, schema=schema)
    return tables


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            params.append(pytest.param(spec["sign"], case, id=f"{spec['sign']}::{case['name']}"))
    return params


def check(sign_id: str, case: dict[str, Any], engine: str = "duckdb") -> None:
    records = records_from_arrow(build_tables(case), engine=engine)
    finding = compute(get_sign(sign_id), records)
    if engine == "duckdb":  # the batched measurement (Spark's) gives the very same finding
        # the same tables, none of the building blocks or facts the first measurement kept
        batched = dataclasses.replace(records, batch_signs=True, _shared={}, _facts={})
        assert compute_all([get_sign(sign_id)], batched)[0].as_json() == finding.as_json()
    expected = case["expected"]
    if expected == "n/a":
        assert finding.value is None and finding.status == "n/a", finding
        assert finding.reason and finding.reason.startswith(case["reason"]), finding.reason
    else:
        assert finding.value == pytest.approx(float(expected), abs=1e-9), finding
        assert finding.reason is None, finding.reason
    if "n" in case:
        assert finding.n == case["n"], finding
    if case.get("note") is not None:  # how the value was reached (the window a trend was measured over)
        assert finding.note and finding.note.startswith(case["note"]), finding.note
    elif "note" in case:  # ``note: null``: the finding has nothing to say
        assert finding.note is None, finding.note
    for key, value in (case.get("breakdowns") or {}).items():
        got_all = finding.breakdowns[key]
        if isinstance(value, dict):
            for k, v in value.items():
                got = got_all[k]
                # a number is the breakdown's value; a mapping is compared whole
                got = got["value"] if isinstance(got, dict) and not isinstance(v, dict) else got
                assert got == pytest.approx(v, abs=1e-9), (key, k)
        elif isinstance(value, list):
            assert got_all == value, key
        else:
            assert got_all == pytest.approx(value, abs=1e-9), key


@pytest.mark.parametrize(("sign_id", "case"), _cases())
def test_sign_case(sign_id: str, case: dict[str, Any]) -> None:
    check(sign_id, case)


def test_every_sign_has_cases_with_a_value_and_an_na() -> None:
    covered: dict[str, list[Any]] = {}
    for path in CASES.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == spec["sign"], f"{path.name} must be named after its sign"
        covered[spec["sign"]] = [c["expected"] for c in spec["cases"]]
    missing = sorted(s.id for s in SIGNS if s.id not in covered)
    assert missing == [], f"signs without a case file: {missing}"
    for sign_id, expected in covered.items():
        assert any(e != "n/a" for e in expected), f"{sign_id} has no case with a value"
        assert any(e == "n/a" for e in expected), f"{sign_id} has no n/a case"


def test_every_na_case_names_its_reason() -> None:
    for path in CASES.glob("*.yaml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            if case["expected"] == "n/a":
                assert case.get("reason"), f"{path.name} :: {case['name']}: an n/a case must name its reason"


def test_every_sign_documents_itself() -> None:
    assert len(SIGNS) >= 40
    for s in SIGNS:
        assert len(s.definition) >= 40, s.id
        assert s.benchmark.source, s.id
        assert s.direction in ("higher", "lower") and s.unit in ("ratio", "h", "count", "rho"), s.id
        lower_good = s.benchmark.good < s.benchmark.poor
        assert lower_good == (s.direction == "lower"), f"{s.id}: band contradicts direction"


def test_ratio_finish_divides_by_the_sum_of_its_denominators() -> None:
    # built here, not at import as the signs do, so that a mutation of it meets these checks
    counts = pa.table({"incidents": [6], "requests": [1], "problems": [1], "changes": [2], "caused": [None]})
    every = {"incidents": 6, "requests": 1, "problems": 1, "changes": 2, "caused": 0}
    assert ratio_finish("problems", ("incidents",), 100.0)(counts) == (pytest.approx(100 / 6), every | {"_n": 6})
    assert ratio_finish("requests", ("incidents", "requests"))(counts) == (pytest.approx(1 / 7), every | {"_n": 7})
    assert ratio_finish("caused", ("changes",))(counts) == (0.0, every | {"_n": 2})
    empty = pa.table({"incidents": [None], "requests": [0], "caused": [3]})
    assert ratio_finish("caused", ("incidents", "requests"))(empty) == (
        None,
        {"_reason": "no incidents or requests in these records"},
    )


def test_time_share_summary_on_the_base_log() -> None:
    # open-status intervals with a duration: I1 7,200 s, I2 86,400, I3 28,800, I4 172,800, I5 3,600
    # and I6 3,600 (its last "new" is still open) = 302,400 s; pending: I2 57,600 and I3 13,200
    # awaiting the user, I4 86,400 awaiting the vendor
    r = records_from_arrow(build_tables({}), engine="duckdb")
    assert r.execute(time_share_summary(None)(r)).to_pylist() == [{"part": 157200, "whole": 302400, "n": 6}]
    user = r.execute(time_share_summary("awaiting_user")(r)).to_pylist()
    assert user == [{"part": 70800, "whole": 302400, "n": 6}]


def test_examine_signs_measures_each_sign_in_order_and_reports_progress() -> None:
    # the base log without its survey table: the two survey signs are n/a (the second answered from
    # the shared cache), the reopen rate has its value; each finding is the one compute gives alone
    r = records_from_arrow(build_tables({"drop": ["survey_response"]}), engine="duckdb")
    names = ("incident.reopen_rate", "incident.customer_satisfaction", "incident.survey_response_rate")
    asked = [get_sign(name) for name in names]
    seen: list[str] = []
    findings = examine_signs(r, signs=asked, progress=seen.append)
    assert seen == [s.id for s in asked]
    assert [f.sign.id for f in findings] == seen
    alone = [compute(s, r) for s in asked]
    assert [(f.value, f.status, f.reason, f.n) for f in findings] == [(f.value, f.status, f.reason, f.n) for f in alone]
    assert [f.status for f in findings] == ["poor", "n/a", "n/a"]
    assert findings[0].value == pytest.approx(0.25)
    # without a progress callback, every declared sign is measured once
    assert [f.sign.id for f in examine_signs(r, signs=asked[:1])] == [asked[0].id]


def test_a_reason_without_na_when_is_the_missing_column_alone() -> None:
    # the reopen rate declares no na_when: its reason is the missing column, with nothing after it
    ticket = {"ticket_id": "A", "ticket_type": "incident", "opened_at": "2026-01-01"}
    case = {"base": False, "add": {"ticket": [ticket]}}
    sign = get_sign("incident.reopen_rate")
    assert sign.na_when is None
    finding = compute(sign, records_from_arrow(build_tables(case), engine="duckdb"))
    assert finding.reason == "these records have no ticket.resolved_at"


def test_every_sign_measured_in_one_batch_equals_each_sign_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Spark's path (``batch_signs``): the per-ticket signs of one aggregate (mean, median, p90) are
    # measured by one query, their values tagged by sign and unioned. A sign case asks for one sign,
    # so the union of several is exercised here: every sign on the base log, batched, gives the
    # finding it gives alone, and no per-ticket sign falls back to being measured alone.
    r = records_from_arrow(build_tables({}), engine="duckdb")
    alone = [compute(s, r).as_json() for s in SIGNS]
    measured_alone: list[str] = []
    measure = base._measure

    def spy(sign: Any, rec: Any) -> Any:
        measured_alone.append(sign.id)
        return measure(sign, rec)

    monkeypatch.setattr(base, "_measure", spy)
    batched = dataclasses.replace(r, batch_signs=True, _shared={}, _facts={})
    assert [f.as_json() for f in compute_all(SIGNS, batched)] == alone
    per_ticket = {s.id for s in SIGNS if s.per_ticket is not None}
    assert not per_ticket & set(measured_alone)
    assert measured_alone and set(measured_alone) <= {s.id for s in SIGNS if s.summary is not None}
    # the union is exercised: two or more per-ticket signs with a value share each aggregate kind
    kinds: dict[str, int] = {}
    for s, f in zip(SIGNS, alone, strict=True):
        if s.id in per_ticket and f["value"] is not None:
            kinds[s.aggregate] = kinds.get(s.aggregate, 0) + 1
    assert kinds and min(kinds.values()) >= 2, kinds
    # and a union of exactly two parts: the first two such signs of each kind, batched alone
    pairs: dict[str, list[Any]] = {}
    for s, f in zip(SIGNS, alone, strict=True):
        if s.id in per_ticket and f["value"] is not None and len(pairs.setdefault(s.aggregate, [])) < 2:
            pairs[s.aggregate].append((s, f))
    two = [p for kind in pairs.values() for p in kind]
    again = dataclasses.replace(r, batch_signs=True, _shared={}, _facts={})
    assert [f.as_json() for f in compute_all([s for s, _ in two], again)] == [f for _, f in two]
