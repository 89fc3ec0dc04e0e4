from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from itsm_doctor.store import Base, Store, StoreError, upgrade


def test_migrations_upgrade_an_empty_database_to_head_and_back(database: str) -> None:
    engine = create_engine(database)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"organisation", "patient", "visit", "answer_set", "register_entry", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
        # the migrations create exactly what the models declare
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_removes_every_table(database: str) -> None:
    from alembic import command

    from itsm_doctor.store.db import _alembic_config

    engine = create_engine(database)
    upgrade(engine)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_visits_are_stored_in_order_and_immutable(database: str) -> None:
    store = Store.open(database=database)
    patient = store.patient(slug="acme-it", name="ACME IT")
    first = store.record_visit(
        patient=patient,
        examination={"schema": "itsm-doctor/examination/1", "signs": [{"id": "incident.reopen_rate", "value": 0.12}]},
        fingerprints=["abc"],
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    store.record_visit(
        patient=patient,
        examination={"schema": "itsm-doctor/examination/1", "signs": []},
        fingerprints=["def"],
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    visits = store.visits(patient=patient)
    assert [v.at.month for v in visits] == [1, 3]
    assert visits[1].examination["signs"][0]["value"] == 0.12
    assert visits[1].schema == "itsm-doctor/examination/1"
    with pytest.raises(StoreError, match="immutable"), store.session() as s:
        v = s.get(type(first), first.id)
        assert v is not None
        v.examination = {"tampered": True}
    assert store.visit(patient=patient, visit_id=first.id).examination["signs"][0]["value"] == 0.12
    store.close()


def test_one_organisation_never_sees_another_organisations_patients(database: str) -> None:
    store = Store.open(database=database)
    a = store.patient(slug="service-desk", organisation="client-a")
    b = store.patient(slug="service-desk", organisation="client-b")
    assert a.id != b.id
    store.record_visit(patient=a, examination={"schema": "s"}, fingerprints=[])
    assert len(store.visits(patient=a)) == 1
    assert store.visits(patient=b) == []
    assert [p.slug for p in store.patients(organisation="client-b")] == ["service-desk"]
    with pytest.raises(StoreError, match="no visit"):
        store.visit(patient=b, visit_id=store.visits(patient=a)[0].id)
    # the same slug asked again is the same patient
    assert store.patient(slug="service-desk", organisation="client-a").id == a.id
    store.close()


def test_register_follows_a_prescription_from_adoption_to_done(database: str) -> None:
    store = Store.open(database=database)
    patient = store.patient(slug="p")
    entry = store.adopt(
        patient=patient,
        prescription_id="assignment-matrix",
        dysfunction_id="assignment-ping-pong",
        title="Assignment matrix by service",
        owner="incident manager",
        sphere="department",
        target_signs=[{"id": "incident.ping_pong_rate", "direction": "down"}],
        adopted_on=date(2026, 2, 1),
        follow_up_days=60,
    )
    store.set_status(patient=patient, entry_id=entry.id, status="in_progress", on=date(2026, 2, 3))
    done = store.set_status(patient=patient, entry_id=entry.id, status="done", on=date(2026, 4, 1))
    assert (done.started_on, done.completed_on, done.status) == (date(2026, 2, 3), date(2026, 4, 1), "done")
    [row] = store.register(patient=patient)
    assert row.target_signs == [{"id": "incident.ping_pong_rate", "direction": "down"}]
    with pytest.raises(StoreError, match="unknown register status"):
        store.set_status(patient=patient, entry_id=entry.id, status="forgotten", on=date(2026, 4, 2))
    other = store.patient(slug="p", organisation="someone-else")
    with pytest.raises(StoreError, match="no register entry"):
        store.set_status(patient=other, entry_id=entry.id, status="done", on=date(2026, 4, 2))
    store.close()


def test_answers_are_kept_per_respondent(database: str) -> None:
    store = Store.open(database=database)
    patient = store.patient(slug="p")
    store.save_answers(patient=patient, respondent="ana", role="agent", answers={"desk-unsure-what-to-resolve": 4})
    store.save_answers(
        patient=patient, respondent="bo", role="process_owner", answers={"desk-unsure-what-to-resolve": 2}
    )
    rows = store.answers(patient=patient)
    assert [(r.respondent, r.role, r.answers["desk-unsure-what-to-resolve"]) for r in rows] == [
        ("ana", "agent", 4),
        ("bo", "process_owner", 2),
    ]
    store.close()


def test_a_register_entry_keeps_the_groups_of_a_team_remedy(database: str) -> None:
    store = Store.open(database=database)
    patient = store.patient(slug="acme-it")
    store.adopt(
        patient=patient,
        prescription_id="swarming",
        dysfunction_id="assignment-ping-pong",
        title="Swarm on tickets that cross teams",
        owner="team lead",
        sphere="team",
        target_signs=[{"id": "incident.ping_pong_rate", "direction": "down"}],
        adopted_on=date(2026, 3, 1),
        groups=["G-SD", "G-NET"],
    )
    store.adopt(
        patient=patient,
        prescription_id="assignment-matrix",
        dysfunction_id="assignment-ping-pong",
        title="Assignment matrix",
        owner="incident manager",
        sphere="department",
        target_signs=[{"id": "incident.ping_pong_rate", "direction": "down"}],
        adopted_on=date(2026, 3, 2),
    )
    team, department = store.register(patient=patient)
    assert team.groups == ["G-SD", "G-NET"] and department.groups is None
    store.close()
