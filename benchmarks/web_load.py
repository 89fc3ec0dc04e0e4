"""Benchmark: the web app under a bounded load while it examines the 10 M-event log.

    flock /tmp/itsm-heavy.lock python benchmarks/web_load.py [--users 50] [--max-seconds 420]
        [--events 10000000] [--data /work/bench-data/web-load] [--out docs/benchmarks.md]

1. Data (made once, kept in ``--data``, never committed): a VINST-layout CSV of ``--events``
   rows (``examination.generate_vinst_csv``, the same log ``make bench`` examines) and three
   small ones of 30,000 rows.
2. A fresh workspace, prepared through the store and the app's own job code: an organisation,
   an owner and ``--users`` members, three examined visits of two patients, a register of
   adopted prescriptions, and the big CSV registered as an upload.
3. ``itsm-doctor serve`` in its own process on 127.0.0.1 (one job worker), as a user runs it.
4. The owner starts the examination of the big CSV from the examinations form; then
   ``--users`` concurrent users (httpx async clients, each signed in with its own session)
   browse the pages a member reaches by links (organisation, visits, reports, register,
   uploads, examinations: whatever the app links to, found by following its links once) with
   a think time of 0.5–2.5 s between pages.
5. It stops by itself when the examination is over (and at least ``--min-seconds`` have
   passed), or at ``--max-seconds`` whatever happens; then prints p50/p95/max page time and the
   error count (any status but 200, any timeout or refused connection), and appends a dated
   section to ``--out``. Goal (issue 18): p95 ≤ 300 ms and no error.

Not a test: run it by hand or ``make bench-web``. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2 as httpx  # the dev extra's client (Starlette 1.x's TestClient takes it too)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

PASSWORD = "bench password, long enough"
ORG = "bench"
GOAL_P95_MS = 300.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# one id per page kind, so the table groups /o/bench/jobs/3 and /o/bench/jobs/7 together
KIND = [(re.compile(r"/\d+(?=/|$|\?)"), "/{id}"), (re.compile(r"/[0-9a-f]{12}(?=/|$|\?)"), "/{visit}")]


def page_kind(path: str) -> str:
    for pattern, repl in KIND:
        path = pattern.sub(repl, path)
    return path.split("?")[0]


# --- data and workspace ----------------------------------------------------------------------


def make_data(folder: Path, events: int) -> tuple[Path, list[Path]]:
    from examination import generate_vinst_csv

    folder.mkdir(parents=True, exist_ok=True)
    big = folder / f"vinst-{events}.csv"
    if not big.is_file():
        t = time.perf_counter()
        generate_vinst_csv(big.with_suffix(".part"), events=events, seed=13)
        big.with_suffix(".part").rename(big)
        print(f"generated {big} in {time.perf_counter() - t:.0f} s", flush=True)
    small = []
    for seed in (1, 2, 3):
        path = folder / f"vinst-small-{seed}.csv"
        if not path.is_file():
            generate_vinst_csv(path, events=30_000, seed=seed)
        small.append(path)
    return big, small


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def prepare(workspace: Path, big: Path, small: list[Path], users: int) -> dict[str, Any]:
    """The organisation, its people, three visits of two patients, a register and the big upload."""
    from itsm_doctor.store import Store
    from itsm_doctor.visits import adopt_prescription
    from itsm_doctor.web.jobs import run_next_job
    from itsm_doctor.web.security import hash_password
    from itsm_doctor.web.settings import WebSettings

    settings = WebSettings(workspace=workspace, secret_key="bench", job_workers=0)
    store = Store.open(workspace=workspace)
    try:
        org = store.create_organisation(slug=ORG, name="Bench Service Desk")
        hashed = hash_password(PASSWORD)  # one Argon2 hash for every account: the load signs in, it does not hash
        owner = store.create_user(email="owner@bench.test", display_name="Owner", password_hash=hashed)
        store.add_member(user_id=owner.id, organisation_id=org.id, role="owner")
        for n in range(users):
            member = store.create_user(email=f"user{n}@bench.test", display_name=f"User {n}", password_hash=hashed)
            store.add_member(user_id=member.id, organisation_id=org.id, role="member")

        def upload(path: Path) -> int:
            folder = settings.files / "uploads" / str(org.id) / f"bench-{path.stem}"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / path.name
            if not target.exists():
                os.symlink(path, target)  # the 10 M CSV is not copied; the reader follows the link
            row = store.create_upload(
                organisation_id=org.id,
                filename=path.name,
                stored_path=str(target.relative_to(settings.files)),
                size=path.stat().st_size,
                kind="csv",
                sha256=sha256_of(path),
                source="bpic2013",
                uploaded_by=owner.id,
            )
            return int(row.id)

        for path, patient in zip(small, ("north-desk", "north-desk", "south-desk"), strict=True):
            store.create_job(
                organisation_id=org.id,
                kind="examine",
                params={"upload_ids": [upload(path)], "source": "bpic2013", "patient": patient, "timezone": None},
                created_by=owner.id,
            )
            job = run_next_job(store, settings)
            assert job is not None
            done = store.job(organisation_id=org.id, job_id=job.id)
            assert done is not None and done.status == "done", (done.status, done.error) if done else None
        who = store.patient_in(organisation_id=org.id, slug="north-desk")
        adopted = []
        for rx in (store.visits(patient=who)[-1].examination.get("prescriptions") or [])[:4]:
            entry = adopt_prescription(store, who, str(rx["id"]), owner="service desk manager", adopted_on=date.today())
            if entry is not None:
                adopted.append(str(rx["id"]))
        big_id = upload(big)
    finally:
        store.close()
    return {"big_upload": big_id, "adopted": adopted}


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workspace: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ITSM_DOCTOR_SECRET_KEY": "bench-secret"}
    command = [sys.executable, "-m", "itsm_doctor", "serve", "--workspace", str(workspace), "--port", str(port)]
    command += ["--job-workers", "1", "--max-upload-mb", "4096"]
    handle = log.open("wb")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)


async def wait_up(base: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as c:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server stopped at start (exit {proc.returncode})")
            try:
                if (await c.get(base + "/login")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within a minute")
            await asyncio.sleep(0.2)


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    logins: list[float] = field(default_factory=list)
    poll_errors: list[str] = field(default_factory=list)


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text)
    assert token, "no CSRF token in /login"
    r = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/", "csrf_token": token.group(1)}
    )
    if r.status_code != 303:
        raise RuntimeError(f"sign-in of {email}: {r.status_code}")


async def discover(client: httpx.AsyncClient, start: str, limit: int = 80) -> list[str]:
    """The pages reachable by links under /o/bench (GET only), as a member browses them."""
    seen: list[str] = []
    todo = [start]
    here = urlsplit(str(client.base_url)).netloc
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        r = await client.get(path)
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        seen.append(path)
        for href in re.findall(r'href="([^"]+)"', r.text):
            target = urlsplit(urljoin(str(client.base_url) + path, href.replace("&amp;", "&")))
            link = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc == here and link.startswith(f"/o/{ORG}") and link not in seen:
                todo.append(link)
    return seen


async def user(base: str, email: str, pages: list[str], stop: asyncio.Event, results: Results, seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 20))  # arrivals (and their sign-ins) spread over 20 s
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as client:
        t = time.perf_counter()
        try:
            await sign_in(client, email)
        except Exception as exc:  # every failure is an error of the run
            results.errors.append(f"sign-in {email}: {exc!r}")
            return
        results.logins.append(time.perf_counter() - t)
        while not stop.is_set():
            path = rng.choice(pages)
            t = time.perf_counter()
            try:
                r = await client.get(path)
                elapsed = time.perf_counter() - t
                if r.status_code != 200:
                    results.errors.append(f"{r.status_code} {path}")
                results.times[page_kind(path)].append(elapsed)
            except httpx.HTTPError as exc:
                results.errors.append(f"{type(exc).__name__} {path}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 2.5))


async def run_load(base: str, args: argparse.Namespace, big_upload: int) -> dict[str, Any]:
    results = Results()
    owner = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
    await sign_in(owner, "owner@bench.test")
    member = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
    await sign_in(member, "user0@bench.test")
    pages = await discover(member, f"/o/{ORG}")  # what a member reaches (the owner's pages answer them 404)
    await member.aclose()
    print(f"{len(pages)} pages to browse: {sorted({page_kind(p) for p in pages})}", flush=True)
    form = await owner.get(f"/o/{ORG}/examinations/new?upload={big_upload}")
    token = CSRF.search(form.text)
    assert token, form.text[:500]
    started = await owner.post(
        f"/o/{ORG}/examinations",
        data={"upload": str(big_upload), "source": "bpic2013", "patient": "big", "csrf_token": token.group(1)},
    )
    assert started.status_code == 303, started.text[:500]
    job_path = started.headers["location"]
    stop = asyncio.Event()
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(user(base, f"user{n}@bench.test", pages, stop, results, seed=n)) for n in range(args.users)
    ]
    job: dict[str, Any] = {}
    job_seconds = None
    while True:
        await asyncio.sleep(2)
        try:
            job = (await owner.get(job_path + "/status")).json()
        except httpx.HTTPError as exc:  # the owner's watch is not a page of the load: counted apart, retried
            results.poll_errors.append(f"{type(exc).__name__} at {time.monotonic() - t0:.0f} s")
            job = job or {"status": "running", "message": "?"}
        elapsed = time.monotonic() - t0
        if job["status"] in ("done", "failed") and job_seconds is None:
            job_seconds = elapsed
            print(f"examination {job['status']} after {elapsed:.0f} s", flush=True)
        if (job_seconds is not None and elapsed >= args.min_seconds) or elapsed >= args.max_seconds:
            break
        if int(elapsed) % 30 < 2:
            n = sum(len(v) for v in results.times.values())
            print(f"{elapsed:4.0f} s: {n} pages, {len(results.errors)} errors; job {job['message']!r}", flush=True)
    stop.set()
    await asyncio.gather(*tasks)
    await owner.aclose()
    window = time.monotonic() - t0
    return {"results": results, "pages": pages, "job": job, "job_seconds": job_seconds, "window": window}


# --- report ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def markdown(run: dict[str, Any], args: argparse.Namespace, events: int) -> str:
    res: Results = run["results"]
    every = [t for v in res.times.values() for t in v]
    ms = 1000.0
    p50, p95, worst = (percentile(every, 50) * ms, percentile(every, 95) * ms, max(every) * ms) if every else (0, 0, 0)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    job = run["job"]
    job_text = (
        f"{job['status']} after {run['job_seconds']:.0f} s"
        if run["job_seconds"] is not None
        else f"still {job['status']} at the end ({job['message']})"
    )
    lines = [
        f"## Web load (benchmarks/web_load.py) — {now}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB (shared), Python "
        f"{platform.python_version()}; server `itsm-doctor serve` (SQLite workspace, one job worker) on loopback. "
        f"{args.users} users, each signed in, browsing {len(run['pages'])} pages found by links "
        f"({len({page_kind(p) for p in run['pages']})} kinds) with 0.5–2.5 s think time, "
        f"for {run['window']:.0f} s while "
        f"the app examined a {events:,}-row VINST CSV (job {job_text}).",
        "",
        f"**{len(every):,} pages: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms; "
        f"{len(res.errors)} error(s)** — goal p95 ≤ {GOAL_P95_MS:.0f} ms and no error: "
        f"{'met' if p95 <= GOAL_P95_MS and not res.errors else 'NOT met'}. Sign-ins (Argon2): "
        f"median {statistics.median(res.logins) * ms:.0f} ms over {len(res.logins)}.",
        "",
        "| page | requests | p50 | p95 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, values in sorted(res.times.items(), key=lambda kv: -percentile(kv[1], 95)):
        lines.append(
            f"| `{kind}` | {len(values):,} | {percentile(values, 50) * ms:.0f} ms | "
            f"{percentile(values, 95) * ms:.0f} ms | {max(values) * ms:.0f} ms |"
        )
    if res.poll_errors:
        lines += ["", f"The owner's job-status polls (not counted above) failed {len(res.poll_errors)} time(s): "
                  + ", ".join(res.poll_errors[:10])]  # fmt: skip
    if res.errors:
        counts: dict[str, int] = defaultdict(int)
        for e in res.errors:
            counts[page_kind(e)] += 1
        lines += ["", "Errors: " + "; ".join(f"{k} ×{n}" for k, n in sorted(counts.items()))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--min-seconds", type=float, default=60, help="browse at least this long")
    parser.add_argument("--max-seconds", type=float, default=420, help="stop here whatever happens")
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("ITSM_DOCTOR_BENCH_DATA", "/work/bench-data")) / "web-load"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (under --data) after the run")
    args = parser.parse_args(argv)

    big, small = make_data(args.data, args.events)
    events = sum(1 for _ in big.open("rb")) - 1
    workspace = args.data / f"ws-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    t = time.perf_counter()
    prepared = prepare(workspace, big, small, args.users)
    print(f"workspace prepared in {time.perf_counter() - t:.0f} s: {prepared}", flush=True)
    port = free_port()
    proc = start_server(workspace, port, workspace / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_up(base, proc))
        run = asyncio.run(run_load(base, args, prepared["big_upload"]))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = markdown(run, args, events)
    print(text)
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmarks\n\n"
    args.out.write_text(previous.rstrip("\n") + "\n\n" + text, encoding="utf-8")
    if not args.keep:
        shutil.rmtree(workspace, ignore_errors=True)
    p95 = percentile([t for v in run["results"].times.values() for t in v] or [0.0], 95)
    return 0 if p95 * 1000 <= GOAL_P95_MS and not run["results"].errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
