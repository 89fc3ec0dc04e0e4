"""Uploads (size cap, type check, CSRF before any byte) and examinations as durable jobs."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from itsm_doctor.simulate import Scenario, simulate
from itsm_doctor.simulate.export import write_servicenow
from itsm_doctor.store import Job
from itsm_doctor.web import create_app
from itsm_doctor.web.jobs import JOB_NICENESS, JobRunner, run_next_job
from itsm_doctor.web.uploads import UploadRefused, receive_multipart

Web = Any  # the ``web`` fixture of conftest.py (max_upload_bytes = 64 KiB)

SCRIPT_GROUP = "<script>alert('group')</script>"
SCRIPT_CATEGORY = '<img src=x onerror="alert(1)">'


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _owner(web: Web) -> TestClient:
    ada = web.user("ada@example.org")
    web.organisation("acme", name="Acme", members={ada: "owner"})
    return web.signed_in("ada@example.org")


def test_an_upload_over_the_limit_is_refused_with_413_and_leaves_no_file(web: Web) -> None:
    c = _owner(web)
    big = b"number,incident_state\n" + b"INC1,New\n" * 10_000  # 90 KB > 64 KiB
    r = c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
        files={"files": ("big.csv", big, "text/csv")},
    )
    assert r.status_code == 413
    assert "larger than the limit" in r.text
    assert _files_under(web.settings.files / "uploads") == []
    assert web.store.uploads(organisation_id=1) == []


def test_a_streamed_upload_without_a_length_stops_at_the_limit_and_leaves_no_file(web: Web) -> None:
    c = _owner(web)
    token = web.csrf(c, "/o/acme/uploads")

    def body() -> Iterator[bytes]:
        yield (
            b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
            b'--B\r\nContent-Disposition: form-data; name="files"; filename="huge.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\nnumber,incident_state\r\n"
        )
        for _ in range(1_000):  # 16 MB if the server kept reading
            yield b"INC1,New\r\n" * 1_600
        yield b"\r\n--B--\r\n"

    r = c.post("/o/acme/uploads", content=body(), headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 413
    assert _files_under(web.settings.files / "uploads") == []
    assert web.store.uploads(organisation_id=1) == []


def test_the_receiver_stops_reading_the_body_at_the_limit(tmp_path: Path) -> None:
    """The stream is pulled chunk by chunk: once past the limit no further chunk is asked for."""
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\ntok\r\n'
        pulled += 1
        yield b'--B\r\nContent-Disposition: form-data; name="files"; filename="x.csv"\r\n\r\nnumber,state\r\n'
        for _ in range(1_000):  # 10 MB on offer
            pulled += 1
            yield b"INC1,New\r\n" * 1_000

    with pytest.raises(UploadRefused) as refused:
        asyncio.run(
            receive_multipart(
                chunks=chunks(),
                content_type="multipart/form-data; boundary=B",
                folder=tmp_path,
                limit=50_000,
                csrf_expected="tok",
            )
        )
    assert refused.value.status == 413
    # 2 form chunks + 5 chunks of 10,000 bytes fit in 50,000 bytes: the 5th crosses it, reading stops there
    assert pulled == 7
    assert _files_under(tmp_path) == []


def test_upload_types_are_checked_by_content_and_a_mismatch_leaves_no_file(web: Web) -> None:
    c = _owner(web)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "x")
    for name, content in (
        ("export.csv", zipped.getvalue()),  # a ZIP named .csv
        ("log.xes", b"number,state\nINC1,New\n"),  # a CSV named .xes
        ("tool.exe", b"MZ\x90\x00"),
        ("sheet.xlsx", zipped.getvalue()),  # a ZIP without a workbook inside
    ):
        r = c.post(
            "/o/acme/uploads",
            data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
            files={"files": (name, content, "application/octet-stream")},
        )
        assert r.status_code == 415, name
    assert _files_under(web.settings.files / "uploads") == []


def test_an_upload_without_the_csrf_token_first_is_refused_before_any_byte_is_written(web: Web) -> None:
    c = _owner(web)
    r = c.post("/o/acme/uploads", files={"files": ("a.csv", b"number,incident_state\nINC1,New\n", "text/csv")})
    assert r.status_code == 403
    forged = c.post(
        "/o/acme/uploads",
        data={"csrf_token": "forged"},
        files={"files": ("a.csv", b"number,incident_state\nINC1,New\n", "text/csv")},
    )
    assert forged.status_code == 403
    assert _files_under(web.settings.files / "uploads") == []


def test_the_source_is_proposed_from_the_headers_and_a_zip_is_unpacked(web: Web, data: Path) -> None:
    c = _owner(web)
    sample = (data / "servicenow-sample" / "incident_event_log.sample.csv.gz").read_bytes()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("Detail_Incident.csv", (data / "bpic2014-sample" / "Detail_Incident.csv").read_bytes()[:20_000])
    r = c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads"), "source": ""},
        files=[
            ("files", ("incident_event_log.sample.csv.gz", sample[:40_000], "application/gzip")),
            ("files", ("bpic2014.zip", zipped.getvalue(), "application/zip")),
        ],
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/o/acme/examinations/new?upload=1&upload=2"
    uploads = {u.filename: u for u in web.store.uploads(organisation_id=1)}
    assert uploads["incident_event_log.sample.csv.gz"].source == "servicenow"
    assert uploads["incident_event_log.sample.csv.gz"].kind == "csv"
    assert uploads["bpic2014.zip"].source == "bpic2014"
    assert uploads["bpic2014.zip"].kind == "zip"
    page = c.get("/o/acme/examinations/new?upload=1").text
    assert re.search(r'<option value="servicenow" selected>', page)
    assert "different sources" in c.get(r.headers["location"]).text


def _simulated_export(folder: Path) -> tuple[bytes, int]:
    """A simulated ServiceNow snapshot log (120 tickets) with data-borne markup in a group and a
    category, and two bad rows: an unknown state and a time that is not one. Returns the
    file and its number of data rows."""
    simulate(Scenario(seed=7, tickets=120, start=date(2026, 1, 5), months=3), folder)
    write_servicenow(folder, folder / "incident_event_log.csv")
    text = (folder / "incident_event_log.csv").read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    columns = header.split(",")
    group, category = columns.index("assignment_group"), columns.index("category")
    marked = []
    for row in rows:
        cells = row.split(",")
        if cells[group] == "NET":
            cells[group] = SCRIPT_GROUP
        cells[category] = SCRIPT_CATEGORY if cells[category] == "network" else cells[category]
        marked.append(",".join(cells))
    first = rows[0].split(",")
    unknown = list(first)
    unknown[0], unknown[columns.index("incident_state")] = "INC99999998", "Teleported"
    untimed = list(first)
    untimed[0], untimed[columns.index("opened_at")] = "INC99999999", "not a time"
    lines = [header, *marked, ",".join(unknown), ",".join(untimed)]
    return ("\n".join(lines) + "\n").encode("utf-8"), len(lines) - 1


def test_an_examination_job_end_to_end_on_a_simulated_export(web: Web, tmp_path: Path) -> None:
    # the fixture's 64 KiB limit is too small for this export
    web.settings = web.app.state.settings = replace(web.settings, max_upload_bytes=8 * 1024 * 1024)
    c = _owner(web)
    export, rows = _simulated_export(tmp_path / "sim")
    r = c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
        files={"files": ("incident_event_log.csv", export, "text/csv")},
    )
    assert r.status_code == 303
    r = c.post(
        "/o/acme/examinations",
        data={
            "csrf_token": web.csrf(c, "/o/acme/uploads"),
            "upload": "1",
            "source": "servicenow",
            "patient": "Acme IT",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/o/acme/jobs/1"
    queued = c.get("/o/acme/jobs/1/status").json()
    assert queued == {"status": "queued", "progress": 0.0, "message": "waiting for a worker"}
    assert 'data-job-poll="/o/acme/jobs/1/status"' in c.get("/o/acme/jobs/1").text
    job = run_next_job(web.store, web.settings)
    assert job is not None
    done = web.store.job(organisation_id=1, job_id=1)
    assert done is not None and done.status == "done", done.error if done else None
    result = done.result or {}
    # by hand: every data row of the file is read; the two bad rows are quarantined, one reason each
    assert result["rows_read"] == rows
    assert result["rows_quarantined"] == 2
    assert result["rows_accepted"] == rows - 2
    [file] = result["files"]
    assert file["file"] == "incident_event_log.csv"  # the uploaded name, never the server's path
    assert sum(file["reasons"].values()) == 2 and "unknown_status" in file["reasons"]
    assert result["records"]["ticket"] == 120
    assert c.get("/o/acme/jobs/1/status").json()["status"] == "done"
    page = c.get("/o/acme/jobs/1").text
    assert f"Rows read {rows:,} = accepted {rows - 2:,}" in page
    assert "ServiceNow times carry no offset" in page  # the intake's notes are shown
    visit_id = done.visit_id
    assert visit_id and f'href="/o/acme/visits/{visit_id}"' in page
    assert str(web.settings.files) not in page
    # data-borne markup stays text on every page of the patient's file
    pages = {
        "job": page,
        "visits": c.get("/o/acme/visits").text,
        "patient": c.get("/o/acme/patients/acme-it").text,
        "visit": c.get(f"/o/acme/visits/{visit_id}").text,
        "report": c.get(f"/o/acme/visits/{visit_id}/report").text,
        "followup": c.get("/o/acme/patients/acme-it/followup").text,
        "followup report": c.get("/o/acme/patients/acme-it/followup/report").text,
    }
    for name, text in pages.items():
        assert "<script>alert" not in text, name
        assert '<img src=x onerror="alert(1)">' not in text, name
    assert "&lt;script&gt;alert(" in pages["report"]  # the group name reached the report, escaped
    report = c.get(f"/o/acme/visits/{visit_id}/report")
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert report.headers["x-frame-options"] == "SAMEORIGIN"
    assert c.get(f"/o/acme/visits/{visit_id}/examination.json").json()["visit"]["id"] == visit_id


def test_a_job_left_running_by_a_dead_process_is_marked_failed_at_restart(web: Web) -> None:
    org = web.organisation("acme")
    web.store.create_job(organisation_id=org.id, kind="examine", params={"upload_ids": [], "source": "servicenow"})
    web.store.create_job(organisation_id=org.id, kind="examine", params={"upload_ids": [], "source": "servicenow"})
    claimed: Job | None = web.store.claim_next_job(runner="a process that then dies")
    assert claimed is not None and claimed.id == 1 and claimed.status == "running"
    # a new process starts on the same store
    restarted = create_app(web.settings, store=web.store)
    with TestClient(restarted):
        pass
    first, second = web.store.job(organisation_id=org.id, job_id=1), web.store.job(organisation_id=org.id, job_id=2)
    assert first is not None and (first.status, first.error) == ("failed", "interrupted by a restart")
    assert second is not None and second.status == "queued"  # never started: still waits for a worker
    ada = web.user("ada@example.org")
    web.store.add_member(user_id=ada.id, organisation_id=org.id, role="owner")
    c = web.signed_in("ada@example.org")
    page = c.get("/o/acme/jobs/1").text
    assert "interrupted by a restart" in page and "Start it again" in page
    again = c.post("/o/acme/jobs/1/retry", data={"csrf_token": web.csrf(c, "/o/acme/jobs/1")})
    assert again.status_code == 303 and again.headers["location"] == "/o/acme/jobs/3"
    retried = web.store.job(organisation_id=org.id, job_id=3)
    assert retried is not None and retried.status == "queued" and retried.params == first.params


@pytest.mark.realdata
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_servicenow_sample_uploaded_and_examined_in_the_app(web: Web, data: Path) -> None:
    """The shared ServiceNow event log through the pages: the same accounting as the reader's
    own test (21,453 rows, 5 snapshots dated before their incident was opened)."""
    web.settings = web.app.state.settings = replace(web.settings, max_upload_bytes=8 * 1024 * 1024)
    c = _owner(web)
    sample = data / "servicenow-sample" / "incident_event_log.sample.csv.gz"
    r = c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
        files={"files": (sample.name, sample.read_bytes(), "application/gzip")},
    )
    assert '<option value="servicenow" selected>' in c.get(r.headers["location"]).text
    c.post(
        "/o/acme/examinations",
        data={"csrf_token": web.csrf(c, "/"), "upload": "1", "source": "servicenow", "patient": "snow"},
    )
    run_next_job(web.store, web.settings)
    job = web.store.job(organisation_id=1, job_id=1)
    assert job is not None and job.status == "done", job.error if job else None
    result = job.result or {}
    assert (result["rows_read"], result["rows_accepted"], result["rows_quarantined"]) == (21_453, 21_448, 5)
    assert result["files"][0]["reasons"] == {"event_before_creation": 5}
    assert result["records"]["ticket"] == 3_000
    visit = c.get(f"/o/acme/visits/{job.visit_id}").text
    assert "Period: 2016-02 – 2016-03" in visit
    assert "incident_event_log.sample.csv.gz" in visit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_job_workers_run_at_a_lower_priority_than_the_pages(web: Web) -> None:
    here = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, here)
    runner = JobRunner(store=web.store, settings=web.settings, workers=1, poll_seconds=0.05)
    runner.start()
    try:
        [thread] = runner._threads
        wanted = max(JOB_NICENESS, before)
        for _ in range(200):  # the worker lowers itself as it starts
            if os.getpriority(os.PRIO_PROCESS, thread.native_id or 0) == wanted:
                break
            time.sleep(0.01)
        assert os.getpriority(os.PRIO_PROCESS, thread.native_id or 0) == wanted
        assert os.getpriority(os.PRIO_PROCESS, here) == before  # the thread serving pages keeps its own
    finally:
        runner.stop()


JIRA_CSV = (
    "Summary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Reporter,Created,Resolved\n"
    "VPN drops,ITSM-1,10001,Incident,Resolved,High,ana,bo,24/Nov/26 3:15 PM,24/Nov/26 5:45 PM\n"
    "New laptop,ITSM-2,10002,Service Request,Waiting for customer,Medium,,cy,25/Nov/26 9:00 AM,\n"
    "Odd,ITSM-4,10004,Incident,Teleported,Low,,bo,25/Nov/26 9:00 AM,\n"
)
JIRA_CHANGELOG = {
    "issues": [
        {
            "key": "ITSM-1",
            "changelog": {
                "histories": [
                    {
                        "created": "2026-11-24T15:20:00.000+0000",
                        "author": {"displayName": "ana"},
                        "items": [{"field": "status", "fromString": "Open", "toString": "In Progress"}],
                    }
                ]
            },
        }
    ]
}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_jira_export_and_its_changelog_are_uploaded_together_and_examined(web: Web) -> None:
    c = _owner(web)
    r = c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
        files=[
            ("files", ("export.csv", JIRA_CSV.encode(), "text/csv")),
            ("files", ("changelog.json", json.dumps(JIRA_CHANGELOG).encode(), "application/json")),
        ],
    )
    assert r.status_code == 303
    assert {u.filename: (u.kind, u.source) for u in web.store.uploads(organisation_id=1)} == {
        "export.csv": ("csv", "jira"),
        "changelog.json": ("json", "jira"),
    }
    page = c.get(r.headers["location"]).text
    assert '<option value="jira" selected>' in page and "different sources" not in page
    c.post(
        "/o/acme/examinations",
        data={"csrf_token": web.csrf(c, "/"), "upload": ["1", "2"], "source": "jira", "patient": "desk"},
    )
    run_next_job(web.store, web.settings)
    job = web.store.job(organisation_id=1, job_id=1)
    assert job is not None and job.status == "done", job.error if job else None
    files = {f["file"]: (f["rows_read"], f["rows_quarantined"], f["reasons"]) for f in (job.result or {})["files"]}
    # by hand: three issue rows, one with an unknown status; one history entry with one status item
    assert files["export.csv"] == (3, 1, {"unknown_status": 1})
    assert files["changelog.json"] == (1, 0, {})


def test_the_questionnaire_answers_feed_the_examination_job(web: Web, tmp_path: Path) -> None:
    # Two agents strongly agree that tickets across teams have no owner (5 and 5): the job's
    # diagnosis of ping-pong carries that statement as symptom evidence, value 5 (their mean),
    # supporting it, and the visit has the maturity section `examine --symptoms` adds.
    web.settings = web.app.state.settings = replace(web.settings, max_upload_bytes=8 * 1024 * 1024)
    c = _owner(web)
    patient = web.store.patient_in(organisation_id=1, slug="acme-it", create=True)
    assert patient is not None
    for name in ("Ana", "Bo"):
        web.store.save_answers(
            patient=patient,
            respondent=name,
            role="agent",
            answers={"nobody-owns-the-ticket": 5, "incident-l1-incidents-get-fixed": True},
        )
    export, _rows = _simulated_export(tmp_path / "sim")
    c.post(
        "/o/acme/uploads",
        data={"csrf_token": web.csrf(c, "/o/acme/uploads")},
        files={"files": ("incident_event_log.csv", export, "text/csv")},
    )
    r = c.post(
        "/o/acme/examinations",
        data={
            "csrf_token": web.csrf(c, "/o/acme/uploads"),
            "upload": "1",
            "source": "servicenow",
            "patient": "acme-it",
        },
    )
    assert r.status_code == 303
    job = run_next_job(web.store, web.settings)
    assert job is not None
    done = web.store.job(organisation_id=1, job_id=1)
    assert done is not None and done.status == "done", done.error if done else None
    exam = c.get(f"/o/acme/visits/{done.visit_id}/examination.json").json()
    [pingpong] = [d for d in exam["diagnoses"] if d["id"] == "assignment-ping-pong"]
    [said] = [e for e in pingpong["evidence"] if e["kind"] == "symptom" and e["id"] == "nobody-owns-the-ticket"]
    assert said["value"] == 5 and said["supports"] is True
    assert exam.get("maturity"), "the answers' maturity section is missing"
