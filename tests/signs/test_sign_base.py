"""What every sign shares (signs/base.py): the rating against the band at its edges, the JSON
of a finding, a sign declaration that cannot be computed, and the lookup of a sign by id."""

from __future__ import annotations

import math
from typing import Any

import ibis
import pyarrow as pa
import pytest

from itsm_doctor.engine import records_from_arrow
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs import base, compute, compute_all, get_sign
from itsm_doctor.signs.base import Benchmark, Finding, Sign, rate

LOWER = Sign(
    id="test.lower",
    name="Lower is better",
    area="quality",
    practice="incident management",
    unit="h",
    direction="lower",
    definition="A test sign whose good values are small.",
    benchmark=Benchmark(good=8.0, poor=40.0, source="a test band"),
    needs=("ticket",),
    per_ticket=lambda r: r["ticket"],
)
HIGHER = Sign(
    id="test.higher",
    name="Higher is better",
    area="value",
    practice="service desk",
    unit="ratio",
    direction="higher",
    definition="A test sign whose good values are large.",
    benchmark=Benchmark(good=0.7, poor=0.55, source="another test band"),
    needs=("ticket",),
    per_ticket=lambda r: r["ticket"],
)


@pytest.mark.parametrize(
    ("sign", "value", "status"),
    [
        (LOWER, 7.9, "good"),
        (LOWER, 8.0, "good"),  # the good edge is good
        (LOWER, 8.1, "fair"),
        (LOWER, 39.9, "fair"),
        (LOWER, 40.0, "poor"),  # the poor edge is poor
        (LOWER, 41.0, "poor"),
        (HIGHER, 0.71, "good"),
        (HIGHER, 0.7, "good"),
        (HIGHER, 0.69, "fair"),
        (HIGHER, 0.56, "fair"),
        (HIGHER, 0.55, "poor"),
        (HIGHER, 0.1, "poor"),
        (LOWER, None, "n/a"),
        (HIGHER, math.nan, "n/a"),
    ],
)
def test_rate_against_the_band(sign: Sign, value: float | None, status: str) -> None:
    assert rate(sign, value) == status


def test_finding_as_json_spells_every_field() -> None:
    finding = Finding(sign=LOWER, value=12.5, status="fair", n=7, breakdowns={"p90": 30.0})
    expected: dict[str, Any] = {
        "id": "test.lower",
        "name": "Lower is better",
        "area": "quality",
        "practice": "incident management",
        "value": 12.5,
        "unit": "h",
        "direction": "lower",
        "benchmark": {"good": 8.0, "poor": 40.0, "source": "a test band"},
        "status": "fair",
        "n": 7,
        "reason": None,
        "note": None,
        "breakdowns": {"p90": 30.0},
    }
    assert finding.as_json() == expected
    assert Finding(sign=LOWER, value=None, status="n/a").as_json()["n"] == 0


def _declare(**changes: Any) -> Sign:
    fields: dict[str, Any] = {
        "id": "test.bad",
        "name": "Bad",
        "area": "quality",
        "practice": "records",
        "unit": "ratio",
        "direction": "lower",
        "definition": "A sign declared wrongly on purpose.",
        "benchmark": Benchmark(good=0.1, poor=0.2, source="none"),
        "needs": ("ticket",),
    }
    return Sign(**(fields | changes))


def test_a_sign_declared_wrongly_is_refused_saying_why() -> None:
    per_ticket = HIGHER.per_ticket
    with pytest.raises(ValueError, match=r"^sign test\.bad: unknown area 'hygiene'$"):
        _declare(area="hygiene", per_ticket=per_ticket)
    with pytest.raises(ValueError, match=r"^sign test\.bad: give either per_ticket or summary \+ finish$"):
        _declare()
    with pytest.raises(ValueError, match=r"^sign test\.bad: give either per_ticket or summary \+ finish$"):
        _declare(per_ticket=per_ticket, summary=per_ticket)
    with pytest.raises(ValueError, match=r"^sign test\.bad: a summary sign needs a finish function$"):
        _declare(summary=per_ticket)
    assert _declare(per_ticket=per_ticket).aggregate == "mean"


def test_get_sign_by_id_and_unknown_id() -> None:
    assert get_sign("incident.mttr").name == "Time to resolve (median)"
    with pytest.raises(KeyError, match=r"unknown sign 'incident\.nope'; see `itsm-doctor catalog signs`"):
        get_sign("incident.nope")


def test_a_finish_without_a_value_nor_a_reason_reads_too_few_records() -> None:
    # a finish that gives NaN and says neither why nor how many: n/a, 0 measured, the default reason
    ticket = pa.Table.from_pylist([{"ticket_id": "A", "ticket_type": "incident"}], schema=SCHEMAS["ticket"])
    sign = _declare(
        summary=lambda r: r["ticket"].aggregate(tickets=ibis._.count()), finish=lambda table: (math.nan, {})
    )
    finding = compute(sign, records_from_arrow({"ticket": ticket}, engine="duckdb"))
    assert (finding.value, finding.status, finding.n, finding.note) == (None, "n/a", 0, None)
    assert finding.reason == "too few records to measure"
    assert finding.breakdowns == {}


def test_a_summary_value_is_rated_and_a_stray_reason_leaves_its_breakdowns() -> None:
    # a finish that gives a value (0.15, between good 0.1 and poor 0.2 of a lower-is-better band: fair),
    # its n, and a reason it should not have given: the finding is measured, rated fair, and the
    # reason is neither the finding's nor one of its breakdowns
    ticket = pa.Table.from_pylist([{"ticket_id": "A", "ticket_type": "incident"}], schema=SCHEMAS["ticket"])
    sign = _declare(
        summary=lambda r: r["ticket"].aggregate(tickets=ibis._.count()),
        finish=lambda table: (0.15, {"_n": 3, "_reason": "stray", "tickets": table["tickets"][0].as_py()}),
    )
    finding = compute(sign, records_from_arrow({"ticket": ticket}, engine="duckdb"))
    assert (finding.value, finding.status, finding.n, finding.reason) == (0.15, "fair", 3, None)
    assert finding.breakdowns == {"tickets": 1}


def test_a_per_ticket_sign_with_no_ticket_to_measure_is_na_saying_so() -> None:
    # the records hold a ticket, but the sign has a value for none of them: n/a, of this sign, with the
    # reason (the sign cases' n/a per-ticket cases all stop earlier, at a missing column)
    ticket = pa.Table.from_pylist([{"ticket_id": "A", "ticket_type": "incident"}], schema=SCHEMAS["ticket"])
    sign = _declare(per_ticket=lambda r: r["ticket"].select("ticket_id", value=ibis.null("float64")))
    finding = compute(sign, records_from_arrow({"ticket": ticket}, engine="duckdb"))
    assert (finding.sign, finding.value, finding.status, finding.n) == (sign, None, "n/a", 0)
    assert finding.reason == "no ticket to measure in these records"


def test_a_batch_of_per_ticket_signs_gives_each_its_own_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Spark's path measures the per-ticket signs of one aggregate together (``compute_all`` with
    # ``batch_signs``); the sign cases batch one sign at a time. Three mean signs in one batch: one
    # with no value for any ticket (n/a, saying so), one broken down by priority only, one by every
    # dimension — each finding is the one ``compute`` gives the sign alone.
    tickets = pa.Table.from_pylist(
        [
            {"ticket_id": "A", "ticket_type": "incident", "priority": 1, "category": "network"},
            {"ticket_id": "B", "ticket_type": "incident", "priority": 3, "category": "network"},
            {"ticket_id": "C", "ticket_type": "incident", "priority": 3, "category": "email"},
        ],
        schema=SCHEMAS["ticket"],
    )
    hours = {"A": 2.0, "B": 4.0, "C": 9.0}

    def per_ticket(r: Any) -> Any:
        t = r["ticket"]
        return t.select("ticket_id", value=ibis.cases(*((t.ticket_id == k, v) for k, v in hours.items())))

    empty = _declare(id="test.empty", per_ticket=lambda r: r["ticket"].select("ticket_id", value=ibis.null("float64")))
    by_priority = _declare(id="test.by_priority", per_ticket=per_ticket, breakdowns=("priority",))
    every = _declare(id="test.every", per_ticket=per_ticket)
    signs = [empty, by_priority, every]
    alone = [compute(s, records_from_arrow({"ticket": tickets}, engine="duckdb")) for s in signs]
    batched = records_from_arrow({"ticket": tickets}, engine="duckdb")
    batched.batch_signs = True

    def not_alone(sign: Sign, r: Any) -> Finding:
        raise AssertionError(f"{sign.id} measured alone, not in the batch")

    monkeypatch.setattr(base, "_measure", not_alone)
    seen: list[str] = []
    found = compute_all(signs, batched, progress=seen.append)
    assert seen == ["test.empty", "test.by_priority", "test.every"]  # each sign named as it is reported
    assert [f.as_json() for f in found] == [f.as_json() for f in alone]
    assert [f.sign for f in found] == signs
    assert (found[0].value, found[0].status, found[0].n) == (None, "n/a", 0)
    assert found[0].reason == "no ticket to measure in these records"
    # (2 + 4 + 9) / 3 = 5 over three tickets; priority 1: 2 (A), priority 3: (4 + 9) / 2 = 6.5 (B, C)
    assert (found[1].value, found[1].n, found[1].status) == (pytest.approx(5.0), 3, "poor")
    assert found[1].breakdowns == {"priority": {"1": {"value": 2.0, "n": 1}, "3": {"value": 6.5, "n": 2}}}
    assert found[2].breakdowns["category"] == {"email": {"value": 9.0, "n": 1}, "network": {"value": 3.0, "n": 2}}
