"""The store's calls for uploads and background jobs.

A tenant's request always names the organisation (``organisation_id``): an upload or job of
another organisation is simply not found. The job runner's own calls (claim, progress,
finish, fail) work on a job it has claimed, by id.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from itsm_doctor.store.web_models import Job, Upload

__all__ = ["INTERRUPTED", "JobStore"]

INTERRUPTED = "interrupted by a restart"


def _now() -> datetime:
    return datetime.now(UTC)


class JobStore:
    """Mixed into ``Store``: uploads and jobs, scoped to an organisation."""

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

    # uploads ----------------------------------------------------------------------------
    def create_upload(
        self,
        *,
        organisation_id: int,
        filename: str,
        stored_path: str,
        size: int,
        kind: str,
        sha256: str,
        source: str | None,
        uploaded_by: int | None,
    ) -> Upload:
        row = Upload(
            organisation_id=organisation_id,
            filename=filename,
            stored_path=stored_path,
            size=size,
            kind=kind,
            sha256=sha256,
            source=source,
            uploaded_by=uploaded_by,
            created_at=_now(),
        )
        with self.session() as s:
            s.add(row)
            s.flush()
        return row

    def uploads(self, *, organisation_id: int) -> list[Upload]:
        with self.session() as s:
            stmt = select(Upload).where(Upload.organisation_id == organisation_id)
            return list(s.scalars(stmt.order_by(Upload.created_at.desc(), Upload.id.desc())))

    def upload(self, *, organisation_id: int, upload_id: int) -> Upload | None:
        with self.session() as s:
            return s.scalar(select(Upload).where(Upload.organisation_id == organisation_id, Upload.id == upload_id))

    def set_upload_source(self, *, organisation_id: int, upload_id: int, source: str) -> None:
        with self.session() as s:
            s.execute(
                update(Upload)
                .where(Upload.organisation_id == organisation_id, Upload.id == upload_id)
                .values(source=source)
            )

    # jobs (tenant side) -----------------------------------------------------------------
    def create_job(
        self,
        *,
        organisation_id: int,
        kind: str,
        params: dict[str, Any],
        patient_id: int | None = None,
        created_by: int | None = None,
    ) -> Job:
        row = Job(
            organisation_id=organisation_id,
            patient_id=patient_id,
            kind=kind,
            status="queued",
            progress=0.0,
            message="waiting for a worker",
            error=None,
            params=params,
            result=None,
            created_by=created_by,
            created_at=_now(),
        )
        with self.session() as s:
            s.add(row)
            s.flush()
        return row

    def jobs(self, *, organisation_id: int) -> list[Job]:
        with self.session() as s:
            stmt = select(Job).where(Job.organisation_id == organisation_id)
            return list(s.scalars(stmt.order_by(Job.created_at.desc(), Job.id.desc())))

    def job(self, *, organisation_id: int, job_id: int) -> Job | None:
        with self.session() as s:
            return s.scalar(select(Job).where(Job.organisation_id == organisation_id, Job.id == job_id))

    # jobs (runner side) -----------------------------------------------------------------
    def claim_next_job(self, *, runner: str) -> Job | None:
        """Take the oldest queued job (queued → running); None when there is none. Two
        runners never take the same job: the update only succeeds while it is still queued."""
        with self.session() as s:
            for job_id in s.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5)):
                done = s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(status="running", runner=runner, started_at=_now(), message="starting")
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    s.flush()
                    return s.get(Job, job_id, populate_existing=True)
        return None

    def job_progress(self, *, job_id: int, fraction: float, message: str) -> None:
        with self.session() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(progress=max(0.0, min(1.0, fraction)), message=message[:2000])
            )

    def finish_job(self, *, job_id: int, result: dict[str, Any], visit_id: str | None, patient_id: int | None) -> None:
        with self.session() as s:
            values: dict[str, Any] = {
                "status": "done",
                "progress": 1.0,
                "message": "done",
                "result": result,
                "visit_id": visit_id,
                "finished_at": _now(),
            }
            if patient_id is not None:
                values["patient_id"] = patient_id
            s.execute(update(Job).where(Job.id == job_id).values(**values))

    def fail_job(self, *, job_id: int, error: str, result: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="failed", error=error[:4000], message="failed", result=result, finished_at=_now())
            )

    def fail_interrupted_jobs(self) -> int:
        """At start-up: jobs left running by a process that died are failed, saying so
        (their partial work is not trusted; the user starts them again). Returns how many."""
        with self.session() as s:
            done = s.execute(
                update(Job)
                .where(Job.status == "running")
                .values(status="failed", error=INTERRUPTED, message="failed", finished_at=_now())
            )
            return int(done.rowcount or 0)  # type: ignore[attr-defined]
