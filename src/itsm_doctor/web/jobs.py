"""Examinations as durable background jobs.

A job row is written first (queued); worker threads of the app process claim queued jobs one
at a time (the claim is an UPDATE that succeeds for one worker only) and run the same
examination as ``itsm-doctor examine``: intake into the patient's workspace, every sign,
diagnosis, prescriptions, the visit stored. Progress (a fraction and a message) is written to
the row as the work goes, so any page, in any process, shows it.

A restart never loses a job silently: at start-up, jobs still ``running`` (their process
died) are marked failed with the reason "interrupted by a restart" — their partial intake is
not trusted, and the user starts the examination again from the same uploads (one click).
Re-queueing automatically was rejected: a job that crashed the process would crash it again
at every start.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

from itsm_doctor.store import Job, Store, StoreError
from itsm_doctor.web.reports import store_report, visit_report_key
from itsm_doctor.web.settings import WebSettings

__all__ = ["JobRunner", "patient_workspace", "run_job", "run_next_job"]

log = logging.getLogger("itsm_doctor.web.jobs")


def patient_workspace(settings: WebSettings, *, organisation_id: int, patient_id: int) -> Path:
    """Where a patient's records live (Parquet, batches) under the data folder."""
    return settings.files / "organisations" / str(organisation_id) / "patients" / str(patient_id) / "workspace"


class _Progress:
    """The examination's progress messages as a fraction: intake steps first, then one step
    per sign measured (a message naming a sign id), then the diagnosis."""

    def __init__(self, store: Store, job_id: int) -> None:
        from itsm_doctor.signs import SIGNS

        self.store, self.job_id = store, job_id
        self.signs = {s.id: s.name for s in SIGNS}
        self.done: set[str] = set()
        self.fraction = 0.02

    def __call__(self, message: str) -> None:
        if message in self.signs:
            self.done.add(message)
            self.fraction = 0.10 + 0.85 * len(self.done) / max(1, len(self.signs))
            text = f"measuring signs: {len(self.done)} of {len(self.signs)} ({self.signs[message]})"
        elif message == "diagnosis":
            self.fraction, text = 0.95, "diagnosing"
        elif message == "drawing the report":
            self.fraction, text = 0.97, message
        else:
            self.fraction = min(max(self.fraction, 0.05), 0.10)
            text = message
        self.store.job_progress(job_id=self.job_id, fraction=self.fraction, message=text)


def _examine(store: Store, settings: WebSettings, job: Job) -> tuple[str, int, dict[str, Any]]:
    """Run the examination of ``job``: (visit id, patient id, the intake summary)."""
    from itsm_doctor.assessment.answers import save_answers
    from itsm_doctor.examination import examine
    from itsm_doctor.report import render_html
    from itsm_doctor.sources import SOURCE_NAMES
    from itsm_doctor.sources.base import SourceOptions
    from itsm_doctor.visits import rediagnose
    from itsm_doctor.web.questionnaire_model import answers_file

    params = job.params
    source = str(params.get("source", ""))
    if source not in SOURCE_NAMES:
        raise StoreError(f"unknown source {source!r}")
    uploads = [store.upload(organisation_id=job.organisation_id, upload_id=int(i)) for i in params["upload_ids"]]
    if any(u is None for u in uploads):
        raise StoreError("an upload of this examination was removed")
    paths: list[Path] = []
    shown: dict[str, str] = {}
    for u in uploads:
        assert u is not None
        path = settings.files / u.stored_path
        if u.kind == "zip":
            path = path.parent / (path.name + ".d")
        paths.append(path)
        shown[str(path)] = u.filename
    patient = store.patient_in(organisation_id=job.organisation_id, slug=str(params["patient"]), create=True)
    assert patient is not None
    workspace = patient_workspace(settings, organisation_id=job.organisation_id, patient_id=patient.id)
    workspace.mkdir(parents=True, exist_ok=True)
    # the questionnaire's answers so far feed the diagnosis and the maturity section, as
    # `examine --symptoms` does with the answers file `assess` writes
    answer_sets = store.answer_sets_in(organisation_id=job.organisation_id, patient_id=patient.id)
    symptoms: Path | None = None
    if answer_sets:
        symptoms = workspace / "answers.yaml"
        save_answers(symptoms, answers_file(patient.slug, answer_sets))
    progress = _Progress(store, job.id)
    progress("reading the exports")
    exam, result = examine(
        paths,
        source=source,
        workspace=workspace,
        options=SourceOptions(timezone=params.get("timezone") or None),
        engine="duckdb",
        patient=patient.slug,
        symptoms=symptoms,
        progress=progress,
    )
    data = rediagnose(exam.as_json(), store=store, who=patient, symptoms=symptoms, sphere="enterprise")
    # the visit names the files as the user uploaded them, never the server's paths
    for entry in data.get("intake") or []:
        entry["file"] = _shown_name(str(entry.get("file", "")), shown)
    progress("drawing the report")
    # drawn before the visit is stored, as `examine --report` does: a report that cannot be
    # drawn leaves no visit behind; kept for the first reader (drawing takes seconds)
    html = render_html(data)
    store.record_visit(
        patient=patient, examination=data, fingerprints=[f.fingerprint for f in result.files], visit_id=exam.visit.id
    )
    store_report(settings, visit_report_key(exam.visit.id), html)
    files = []
    for f in result.files:
        row = f.as_json()
        row["file"] = _shown_name(row["file"], shown)
        row.pop("fingerprint", None)
        files.append(row)
    summary = {
        "source": source,
        "rows_read": result.rows_read,
        "rows_accepted": sum(f.rows_accepted for f in result.files),
        "rows_quarantined": result.rows_quarantined,
        "files": files,
        "notes": list(result.notes),
        "records": dict(result.records),
        "reused": result.reused,
    }
    return exam.visit.id, patient.id, summary


def _shown_name(path: str, shown: dict[str, str]) -> str:
    """The uploaded name of a file the intake read (a member of a ZIP: zip name / member)."""
    for stored, name in shown.items():
        if path == stored:
            return name
        if path.startswith(stored + os.sep):
            return f"{name} / {Path(path).name}"
    return Path(path).name


def run_job(store: Store, settings: WebSettings, job: Job) -> None:
    """Run one claimed job to done or failed; never raises."""
    from itsm_doctor.engine import EngineError
    from itsm_doctor.intake.workspace import WorkspaceError
    from itsm_doctor.sources.base import IntakeError

    try:
        if job.kind != "examine":
            raise StoreError(f"unknown job kind {job.kind!r}")
        visit_id, patient_id, summary = _examine(store, settings, job)
    except (IntakeError, EngineError, WorkspaceError, StoreError) as exc:
        store.fail_job(job_id=job.id, error=_readable(exc, settings))
    except Exception as exc:
        log.exception("job %d failed", job.id)
        store.fail_job(job_id=job.id, error=f"internal error ({type(exc).__name__}); the server's log has the details")
    else:
        store.finish_job(job_id=job.id, result=summary, visit_id=visit_id, patient_id=patient_id)


def _readable(exc: Exception, settings: WebSettings) -> str:
    """The error's message without the server's folders (the user knows the upload's name)."""
    return str(exc).replace(str(settings.files) + os.sep, "").replace(str(settings.files), "")


def run_next_job(store: Store, settings: WebSettings, *, runner: str = "inline") -> Job | None:
    """Claim and run the oldest queued job in this thread (tests; a worker's loop); the job or None."""
    job = store.claim_next_job(runner=runner)
    if job is not None:
        run_job(store, settings, job)
    return job


JOB_NICENESS = 10


def _lower_priority() -> None:
    """Let pages go first: on Linux a thread is a task with its own nice value, and the
    threads an examination starts (DuckDB's workers) inherit it, so a long examination takes
    the CPU the pages leave. Elsewhere (no per-thread priority) nothing changes."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, JOB_NICENESS))
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not allowed
        pass


class JobRunner:
    """``workers`` threads that claim and run queued jobs until ``stop``."""

    def __init__(self, *, store: Store, settings: WebSettings, workers: int, poll_seconds: float = 1.0) -> None:
        self.store, self.settings, self.workers, self.poll = store, settings, workers, poll_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"itsm-doctor-job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        _lower_priority()
        while not self._stop.is_set():
            try:
                job = run_next_job(self.store, self.settings, runner=self.name)
            except Exception:  # the store unreachable for a moment: try again at the next poll
                log.exception("the job runner could not claim a job")
                job = None
            if job is None:
                self._wake.wait(self.poll)
                self._wake.clear()
