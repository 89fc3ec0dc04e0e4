"""The mutations issue 20 names, each made by hand on a scratch copy of ``src/`` and run against
the sign cases that must catch it: every one must make a case fail.

    python mutation/named.py [--list]

Exit status 0 when every named mutation is killed. The repository is never written to: each
mutation is applied to ``build/mutation/named/src`` and the cases run with that copy first on
the path. mutmut (``make mutate``) does not mutate module constants nor ``Sign(...)``
declarations, which is where several of these definitions live.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation" / "named"
SIGNS = "itsm_doctor/signs/"


@dataclass(frozen=True, kw_only=True)
class Mutation:
    """Replace ``old`` (found exactly once) by ``new`` in ``file``; the cases ``-k cases`` must fail."""

    what: str
    file: str
    old: str
    new: str
    cases: str


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        what="quick reopen within 72000 h",
        file="incident.py",
        old="<= 72)",
        new="<= 72000)",
        cases="quick_reopen",
    ),
    Mutation(
        what="quick reopen strictly under 72 h",
        file="incident.py",
        old="<= 72)",
        new="< 72)",
        cases="quick_reopen",
    ),
    Mutation(
        what="recurrence within 3000 days",
        file="incident_people.py",
        old="_RECUR_DAYS = 30\n",
        new="_RECUR_DAYS = 3000\n",
        cases="recurring",
    ),
    Mutation(
        what="recurrence strictly under 30 days",
        file="incident_people.py",
        old="<= _RECUR_DAYS * 24)",
        new="< _RECUR_DAYS * 24)",
        cases="recurring",
    ),
    Mutation(
        what="recurrence keyed by service before CI",
        file="incident_people.py",
        old="t.ci_id.coalesce(t.service_id, t.category)",
        new="t.service_id.coalesce(t.ci_id, t.category)",
        cases="recurring",
    ),
    Mutation(
        what="recurrence keyed by category before service",
        file="incident_people.py",
        old="t.ci_id.coalesce(t.service_id, t.category)",
        new="t.ci_id.coalesce(t.category, t.service_id)",
        cases="recurring",
    ),
    Mutation(
        what="recurrence ignores problem links",
        file="incident_people.py",
        old="unlinked = j.problem_id.isnull() & j.lid.isnull()",
        new="unlinked = j.problem_id.isnull()",
        cases="recurring",
    ),
    Mutation(
        what="backlog growth trims three first weeks",
        file="incident_time.py",
        old="_SKIP_FIRST_WEEKS = 4 ",
        new="_SKIP_FIRST_WEEKS = 3 ",
        cases="backlog_growth",
    ),
    Mutation(
        what="backlog growth trims five first weeks",
        file="incident_time.py",
        old="_SKIP_FIRST_WEEKS = 4 ",
        new="_SKIP_FIRST_WEEKS = 5 ",
        cases="backlog_growth",
    ),
    Mutation(
        what="backlog growth keeps the last week",
        file="incident_time.py",
        old="last = window.end - timedelta(days=7)",
        new="last = window.end",
        cases="backlog_growth",
    ),
    Mutation(
        what="backlog growth counts cancelled incidents",
        file="window.py",
        old='of_type(r, "incident").filter(_.opened_at.notnull() & _.cancelled_at.isnull())',
        new='of_type(r, "incident").filter(_.opened_at.notnull())',
        cases="backlog_growth",
    ),
    Mutation(
        what="backlog growth needs ten weeks, as its reason once said",
        file="incident_time.py",
        old="if len(usable) < _FIT_WEEKS:",
        new="if len(usable) < _FIT_WEEKS + 1:",
        cases="backlog_growth",
    ),
    Mutation(
        what="backlog growth's reason says ten weeks",
        file="incident_time.py",
        old="_SKIP_FIRST_WEEKS + _FIT_WEEKS + 1",
        new="_SKIP_FIRST_WEEKS + _FIT_WEEKS + 2",
        cases="backlog_growth",
    ),
    Mutation(
        what="demand/capacity counts cancelled incidents",
        file="incident_time.py",
        old='t = of_type(r, "incident").filter(_.cancelled_at.isnull())\n    return t.aggregate(',
        new='t = of_type(r, "incident")\n    return t.aggregate(',
        cases="demand_capacity",
    ),
    Mutation(
        what="change lead time: mean instead of median",
        file="change.py",
        old='per_ticket=_change_lead,\n        aggregate="median",',
        new="per_ticket=_change_lead,",
        cases="change.lead_time",
    ),
    Mutation(
        what="change lead time: resolution before closure",
        file="change.py",
        old="c.closed_at.coalesce(c.resolved_at, c.actual_end)",
        new="c.resolved_at.coalesce(c.closed_at, c.actual_end)",
        cases="change.lead_time",
    ),
    Mutation(
        what="resolution-time CV: mean of the categories instead of median",
        file="incident_people.py",
        old="statistics.median(cvs.values())",
        new="statistics.fmean(cvs.values())",
        cases="resolution_time_cv",
    ),
    Mutation(
        what="resolution-time CV: categories of more than 20",
        file="incident_people.py",
        old='x["n"] >= _MIN_CATEGORY_TICKETS',
        new='x["n"] > _MIN_CATEGORY_TICKETS',
        cases="resolution_time_cv",
    ),
    Mutation(
        what="request fulfilment: mean instead of median",
        file="request.py",
        old='per_ticket=_fulfilment,\n        aggregate="median",',
        new="per_ticket=_fulfilment,",
        cases="request.fulfilment_time",
    ),
    Mutation(
        what="first response: any event, a priority change included",
        file="desk.py",
        old='r["event"].filter(_.kind.isin(_RESPONSE_KINDS))',
        new='r["event"]',
        cases="time_to_first_response",
    ),
    Mutation(
        what="first response: the recorded field ignored",
        file="desk.py",
        old="j.first_response_at.coalesce(j.first_ts)",
        new="j.first_ts",
        cases="time_to_first_response",
    ),
    Mutation(
        what="first contact resolution: no reassignment wins over the source's flag",
        file="desk.py",
        old="share(j.first_contact_resolved).coalesce(share(j.reassignments == 0))",
        new="share(j.reassignments == 0).coalesce(share(j.first_contact_resolved))",
        cases="first_contact_resolution",
    ),
    Mutation(
        what="first contact resolution: the group history alone, not the larger of it and the source's counter",
        file="incident.py",
        old="count = ibis.greatest(history.coalesce(j.counter), j.counter.coalesce(history))",
        new="count = history.coalesce(j.counter)",
        cases="first_contact_resolution",
    ),
)


def _run(m: Mutation) -> bool:
    """Apply one mutation to a fresh copy of src/; True when a case fails (the mutant is killed)."""
    src = WORK / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(ROOT / "src", src)
    path = src / SIGNS / m.file
    text = path.read_text(encoding="utf-8")
    if text.count(m.old) != 1:
        raise SystemExit(f"{m.what}: {m.old!r} is not found exactly once in src/{SIGNS}{m.file}; update MUTATIONS")
    path.write_text(text.replace(m.old, m.new), encoding="utf-8")
    env = os.environ | {"PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "pytest", "tests/signs/test_sign_cases.py", "-q", "-x", "-p", "no:cacheprovider"]
    done = subprocess.run([*cmd, "-k", m.cases], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{m.what}: pytest could not run (exit {done.returncode})\n{done.stdout[-2000:]}")
    return done.returncode == 1


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for m in MUTATIONS:
            print(f"{m.file}: {m.what}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    survivors = []
    for m in MUTATIONS:
        killed = _run(m)
        print(f"{'killed  ' if killed else 'SURVIVED'}  {m.file}: {m.what}", flush=True)
        if not killed:
            survivors.append(m.what)
    print(f"{len(MUTATIONS) - len(survivors)} of {len(MUTATIONS)} named mutations killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
