"""Signs that walk a ticket's events in turn, on an event table stored out of order.

``records_from_arrow`` sorts events by ticket, ``seq`` and ``ts``, so the sign cases always hand
them over in order; intake's Parquet files keep no row order. Here the base log's events are
stored in reverse: the gaps must still follow ``seq`` (the window's ``order_by``), not the file.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from functools import cache
from pathlib import Path

import ibis
import pytest

from itsm_doctor.engine import Records, records_from_arrow
from itsm_doctor.signs.incident_people import _longest_silence
from itsm_doctor.signs.narrow import _silence_after_pickup

HERE = Path(__file__).parent


def _build_tables():  # type: ignore[no-untyped-def]
    if "sign_cases" not in sys.modules:
        spec = importlib.util.spec_from_file_location("sign_cases", HERE / "test_sign_cases.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["sign_cases"] = module
        spec.loader.exec_module(module)
    return sys.modules["sign_cases"].build_tables


@cache
def _reversed_events() -> Records:
    """The base log on DuckDB, its events stored last row first (built once: 0.7 s)."""
    r = records_from_arrow(_build_tables()({}))
    events = r.con.to_pyarrow(r.tables["event"])
    backwards = events.take(list(range(events.num_rows))[::-1])
    name = f"event_backwards_{uuid.uuid4().hex[:10]}"
    r.con.create_table(name, schema=r.tables["event"].schema())
    r.con.insert(name, backwards)
    r.tables["event"] = r.con.table(name)
    return r


def _values(r: Records, table: ibis.Table) -> dict[str, float]:
    return {x["ticket_id"]: x["value"] for x in r.execute(table).to_pylist()}


def test_longest_silence_follows_seq_not_the_stored_order() -> None:
    # the base log's case: longest gaps 1, 16, 3.67 and 24 h (without the order the lag runs
    # backwards: negative gaps)
    r = _reversed_events()
    assert _values(r, _longest_silence(r)) == pytest.approx({"I1": 1.0, "I2": 16.0, "I3": 11 / 3, "I4": 24.0})


def test_silence_after_pickup_follows_seq_not_the_stored_order() -> None:
    # I2 and I4 reach a second group: after the hand-over, longest gaps 16 h and 24 h
    r = _reversed_events()
    assert _values(r, _silence_after_pickup(r)) == pytest.approx({"I2": 16.0, "I4": 24.0})
