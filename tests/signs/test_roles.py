"""Support roles (signs/roles.py) at their edges: the least number of incidents, the front-line
share, ties, the mapping file's every refusal, and the group table the tiers are written into
(groups only routing names are added; the building blocks that read tiers are rebuilt)."""

from __future__ import annotations

import locale
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from itsm_doctor.engine import Records, records_from_arrow
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs import compute, get_sign
from itsm_doctor.signs.common import tier_reach
from itsm_doctor.signs.roles import FRONT_SHARE, MIN_TICKETS, Roles, RolesError, apply_roles, infer_tiers, load_roles

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)


@contextmanager
def ascii_locale() -> Iterator[None]:
    """The C locale (ASCII), as on a bare server: a file read or written without an explicit
    encoding fails on non-ASCII text there."""
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        if locale.getencoding().lower() in ("utf-8", "utf8"):  # Python's UTF-8 mode: nothing to tell
            pytest.skip("the C locale reads UTF-8 here (Python UTF-8 mode)")
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.table({f.name: [row.get(f.name) for row in rows] for f in schema}, schema=schema)


def _routed() -> Records:
    """30 incidents, exactly the least number roles are inferred from: 26 logged by DESK (10 of
    them passed to NET, 3 of those on to VND), 4 logged by NET. The group table names DESK and
    NET only, with no tier; VND appears in the routing alone. Each incident is resolved by the
    last group of its path."""
    tickets, events = [], []
    for i in range(30):
        tid = f"I{i:02d}"
        path = ["DESK"] + (["NET"] if i < 10 else []) + (["VND"] if i < 3 else []) if i < 26 else ["NET"]
        tickets.append(
            {
                "ticket_id": tid,
                "ticket_type": "incident",
                "opened_at": T0,
                "resolved_at": T0 + timedelta(hours=10),
                "assigned_group_id": path[-1],
            }
        )
        for seq, group in enumerate(path, start=1):
            events.append({"event_id": f"{tid}:{seq}", "ticket_id": tid, "seq": seq, "ts": T0 + timedelta(hours=seq),
                           "kind": "group_change", "to_group_id": group})  # fmt: skip
    groups = [{"group_id": "DESK", "name": "Service Desk"}, {"group_id": "NET", "name": "Network"}]
    tables = {"ticket": tickets, "event": events, "group": groups}
    return records_from_arrow({name: _table(name, rows) for name, rows in tables.items()})


def test_thirty_incidents_are_enough_to_infer_roles_and_unknown_groups_are_added() -> None:
    r = _routed()
    # built before the tiers exist, as an examination may: these must not be reused after
    assert r.execute(tier_reach(r)).num_rows == 0
    before = compute(get_sign("incident.mttr"), r)
    assert set(before.breakdowns["tier"]) <= {"None", "null", ""}
    roles = apply_roles(r)
    # first received: DESK 26 of 30 (87 %), NET 4 (13 % < 15 %: not front line). NET is reached at
    # step 1 four times and step 2 ten times (median 2): tier 2; VND at step 3, three times: tier 3
    assert roles == Roles(
        source="inferred",
        tiers={"DESK": 1, "NET": 2, "VND": 3},
        front_line=("DESK",),
        basis=(
            "front line = the group(s) first receiving most incidents (DESK: 87% of 30); "
            "tier 2 = usually reached next, tier 3 = later"
        ),
    )
    assert roles.as_json() == {
        "source": "inferred",
        "tiers": {"DESK": 1, "NET": 2, "VND": 3},
        "front_line": ["DESK"],
        "basis": roles.basis,
    }
    # the group table now carries the tiers, VND added under its id
    groups = sorted(r.execute(r["group"]).to_pylist(), key=lambda g: g["group_id"])
    assert [(g["group_id"], g["name"], g["tier"]) for g in groups] == [
        ("DESK", "Service Desk", 1),
        ("NET", "Network", 2),
        ("VND", "VND", 3),
    ]
    assert r.counts["group"] == 3
    # the building blocks are rebuilt with the tiers: 16 incidents never left the desk (26 − 10)
    assert compute(get_sign("desk.first_line_only_rate"), r).value == pytest.approx(16 / 30)
    after = compute(get_sign("incident.mttr"), r)
    # resolved by DESK 16, NET 11 (7 passed on + 4 logged), VND 3
    assert {k: v["n"] for k, v in after.breakdowns["tier"].items()} == {"1": 16, "2": 11, "3": 3}


def test_fewer_than_thirty_incidents_infer_nothing() -> None:
    assert MIN_TICKETS == 30
    assert infer_tiers({"A": 20, "B": 9}, {"A": [1], "B": [1]}) == (
        {},
        (),
        "only 29 incidents with a known first group (need 30)",
    )
    assert infer_tiers({"A": 20, "B": 10}, {"A": [1], "B": [1]})[0] == {"A": 1, "B": 1}


def test_the_front_line_share_is_inclusive_and_ties_go_by_name() -> None:
    assert FRONT_SHARE == 0.15
    # B first receives exactly 15 of 100: front line too
    tiers, front, basis = infer_tiers({"A": 85, "B": 15}, {"A": [1], "B": [1], "C": [2, 2, 3]})
    assert (tiers, front) == ({"A": 1, "B": 1, "C": 2}, ("A", "B"))
    assert basis.startswith("front line = the group(s) first receiving most incidents (A, B: 100% of 100); ")
    # 14 of 100: not front line, a tier by its steps
    assert infer_tiers({"A": 86, "B": 14}, {"A": [1], "B": [1, 3, 3]})[:2] == ({"A": 1, "B": 3}, ("A",))
    # the larger count first whatever the name; a tie by name
    assert infer_tiers({"Z": 20, "A": 10}, {})[1] == ("Z", "A")
    assert infer_tiers({"B": 15, "A": 15}, {})[1] == ("A", "B")


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_roles_file_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    path = _mapping(tmp_path, "Équipe réseau: 2\nService Desk: 1\nFournisseur: 3\n")
    with ascii_locale():
        assert load_roles(path) == {"Équipe réseau": 2, "Service Desk": 1, "Fournisseur": 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed", r"roles.yaml: cannot be read as YAML: "),
        ("- Service Desk\n- Network\n", r"roles.yaml: expected a mapping of group to tier, e.g. 'Service Desk: 1'$"),
        ("{}\n", r"roles.yaml: expected a mapping of group to tier"),
        ("tiers: {}\n", r"roles.yaml: expected a mapping of group to tier"),
        ("NET: 4\n", r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not 4$"),
        ("NET: 0\n", r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not 0$"),
        ("NET: '2'\n", r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not '2'$"),
        ("NET: true\n", r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not True$"),
        ("NET: 2.0\n", r"roles.yaml: group 'NET': tier must be 1, 2 or 3, not 2.0$"),
    ],
)
def test_a_bad_roles_file_is_refused_naming_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RolesError, match=message):
        load_roles(_mapping(tmp_path, text))


def test_a_missing_roles_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RolesError, match=r"nowhere.yaml: cannot be read as YAML: "):
        load_roles(tmp_path / "nowhere.yaml")


def test_tiers_one_to_three_are_read_flat_or_under_tiers(tmp_path: Path) -> None:
    assert load_roles(_mapping(tmp_path, "DESK: 1\nNET: 2\nVND: 3\n")) == {"DESK": 1, "NET": 2, "VND": 3}
    assert load_roles(_mapping(tmp_path, "tiers:\n  7: 1\n")) == {"7": 1}


def test_a_mapping_names_its_unknown_groups_and_its_front_line() -> None:
    r = _routed()
    # matched by name (Service Desk → DESK) or id (NET); VND is only in the routing, not in the
    # group table, so it is not matched, and Fournisseur is nowhere
    roles = apply_roles(r, mapping={"Service Desk": 1, "NET": 2, "VND": 1, "Fournisseur": 3})
    assert roles == Roles(
        source="mapping",
        tiers={"DESK": 1, "NET": 2},
        front_line=("DESK",),
        basis="from the roles mapping file; not in these records: Fournisseur, VND",
    )
    every = apply_roles(_routed(), mapping={"Network": 1, "DESK": 1})
    assert every == Roles(
        source="mapping", tiers={"DESK": 1, "NET": 1}, front_line=("DESK", "NET"), basis="from the roles mapping file"
    )


def test_tiers_the_export_carries_are_kept_with_their_front_line() -> None:
    tables = {
        "ticket": [{"ticket_id": "I1", "ticket_type": "incident", "opened_at": T0}],
        "group": [
            {"group_id": "NET", "tier": 2},
            {"group_id": "L1B", "tier": 1},
            {"group_id": "DESK", "tier": 1},
            {"group_id": "NEW"},
        ],
    }
    r = records_from_arrow({name: _table(name, rows) for name, rows in tables.items()})
    assert apply_roles(r) == Roles(
        source="records",
        tiers={"NET": 2, "L1B": 1, "DESK": 1},
        front_line=("DESK", "L1B"),
        basis="the export's own tier column",
    )


def test_without_history_or_with_too_few_incidents_no_roles_are_inferred() -> None:
    tables = {
        "ticket": [{"ticket_id": "I1", "ticket_type": "incident", "opened_at": T0}],
        "group": [{"group_id": "DESK"}],
    }
    bare = records_from_arrow({name: _table(name, rows) for name, rows in tables.items()})
    assert apply_roles(bare) == Roles(source="none", basis="no event history to infer routing from")
    tables["event"] = [
        {"event_id": "I1:1", "ticket_id": "I1", "seq": 1, "ts": T0, "kind": "created", "to_group_id": "DESK"}
    ]
    few = records_from_arrow({name: _table(name, rows) for name, rows in tables.items()})
    assert apply_roles(few) == Roles(source="none", basis="only 1 incidents with a known first group (need 30)")
