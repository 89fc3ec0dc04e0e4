"""Small generated BPIC 2013-style exports and a snapshot of a workspace's bytes."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

HEADER = "SR Number,Change Date+Time,Status,Sub Status,Involved ST,ST Level,Product,Owner First Name"
START = datetime(2012, 1, 2, 9, 0)


def export_rows(tickets: range, *, month: int = 1, resolve: bool = True) -> list[str]:
    """Three events per ticket (queued, in progress, resolved when ``resolve``) in ``month`` of 2012."""
    rows = []
    for t in tickets:
        opened = START.replace(month=month) + timedelta(hours=t)
        steps = [("Queued", "Awaiting Assignment"), ("Accepted", "In Progress")]
        if resolve:
            steps.append(("Completed", "Resolved"))
        for k, (status, sub) in enumerate(steps):
            ts = (opened + timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
            rows.append(f"1-{t},{ts},{status},{sub},G{t % 3},L1,PROD{t % 2},Agent{t % 4}")
    return rows


def write_export(path: Path, rows: list[str], *, header: str = HEADER, newline: str = "\n") -> Path:
    path.write_text(newline.join([header, *rows]) + newline, encoding="utf-8")
    return path


def snapshot(workspace: Path) -> dict[str, str]:
    """SHA-256 of every file that holds the workspace's records, quarantine, manifest and store."""
    out = {}
    for path in sorted(workspace.rglob("*")):
        rel = path.relative_to(workspace).as_posix()
        if path.is_file() and not rel.startswith(("tmp/", ".")) and "/." not in rel:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class Exports:
    """The helpers above, handed to tests as a fixture (tests import no module of tests/)."""

    header = HEADER
    rows = staticmethod(export_rows)
    write = staticmethod(write_export)
    snapshot = staticmethod(snapshot)


@pytest.fixture()
def exports() -> Exports:
    return Exports()
