"""Shared fixtures: the public logs folder, a workspace per test, and an empty database on SQLite and on
the PostgreSQL server of this machine (127.0.0.1:5432, a fresh database per test, dropped after)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("ITSM_DOCTOR_DATA", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data() -> Path:
    """The folder of real public logs; tests needing it are skipped, saying why, when absent."""
    folder = data_dir()
    if not folder.is_dir():
        pytest.skip(f"real logs not found at {folder} (set ITSM_DOCTOR_DATA to the shared/data folder)")
    return folder


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


PG_ADMIN_URL = os.environ.get("ITSM_DOCTOR_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_database() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = f"itsm_doctor_test_{uuid.uuid4().hex[:12]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise  # CI promises PostgreSQL (.ci/run starts it): never skip there
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each backend (the store's and the web app's tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _pg_database()


@pytest.fixture(autouse=True)
def _wide_console() -> Iterator[None]:
    """CLI tables print at 200 columns in tests, so assertions do not depend on wrapping."""
    from itsm_doctor.cli._common import err, out

    saved = (out.width, err.width)
    out.width = err.width = 200
    yield
    out.width, err.width = saved


CHART_READER_JS = """
() => {
  const texts = (root, sel) => Array.from(root.querySelectorAll(sel)).map(t => t.textContent.trim());
  const charts = [];
  for (const fig of document.querySelectorAll('figure[data-sign]')) {
    const svg = fig.querySelector('svg');
    const row = document.querySelector(`tr[data-sign="${fig.dataset.sign}"] td.value`);
    charts.push({
      kind: fig.className,
      sign: fig.dataset.sign,
      adopted: (fig.dataset.adopted || '').split(' ').filter(Boolean),
      table: row ? row.textContent.trim() : null,
      x: texts(svg, 'g.role-axis[aria-label^="X-axis"] g.role-axis-label text'),
      y: texts(svg, 'g.role-axis[aria-label^="Y-axis"] g.role-axis-label text'),
      title: texts(svg, 'g.role-axis[aria-label^="Y-axis"] g.role-axis-title text').join(' '),
      points: Array.from(svg.querySelectorAll('g.mark-symbol path[aria-label]')).map(p => p.getAttribute('aria-label')),
      words: texts(svg, 'text'),
    });
  }
  const effects = Array.from(document.querySelectorAll('#followup table.effects tbody tr[data-since]')).map(tr => ({
    since: tr.dataset.since, sign: tr.dataset.sign,
  }));
  return {charts, effects};
}
"""


@pytest.fixture(scope="session")
def read_report_charts() -> Any:
    """Open a report in headless Chromium (Debian's, through Playwright) and read every chart
    as a person sees it: its axis labels and title, its points, its markers, and the value
    the table beside it shows. Skips, saying why, without Chromium."""
    import shutil

    chromium = os.environ.get("ITSM_DOCTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None and not os.environ.get("CI"):
        pytest.skip("Chromium not installed (make installs Debian's chromium; or set ITSM_DOCTOR_CHROMIUM)")

    def read(report: Path) -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            page = browser.new_context(offline=True).new_page()
            page.goto(report.resolve().as_uri())
            page.wait_for_load_state("load")
            seen: dict[str, Any] = page.evaluate(CHART_READER_JS)
            browser.close()
        return seen

    return read


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-−]", "", text).replace("−", "-"))


def chart_problems(seen: dict[str, Any]) -> list[str]:
    """What a reader would find wrong in the charts ``read_report_charts`` saw: fewer than
    three distinct x values, repeated tick labels, an axis in another unit than the table
    beside it, the table's value or a point outside the axis, an adoption without a marker."""
    problems = []
    for c in seen["charts"]:
        name = f"{c['kind']} {c['sign']}"
        if len(set(c["x"])) < 3:
            problems.append(f"{name}: {len(set(c['x']))} distinct x values")
        if len(set(c["y"])) != len(c["y"]) or len(c["y"]) < 2:
            problems.append(f"{name}: y ticks {c['y']}")
        ticks = [_number(t) for t in c["y"]]
        lo, hi = min(ticks), max(ticks)
        table = c["table"]
        if table is not None and table != "n/a":
            percent, days, hours = table.endswith("%"), table.endswith(" d"), table.endswith(" h")
            if percent != all(t.endswith("%") for t in c["y"]):
                problems.append(f"{name}: table {table!r}, axis {c['y']}")
            if (days and c["title"] != "days") or (hours and c["title"] != "hours"):
                problems.append(f"{name}: table {table!r}, axis title {c['title']!r}")
            shown = re.sub(r"[^0-9.]", "", table)  # the table rounds: 0.3 h stands for 0.25 to 0.35
            half = 0.5 * 10 ** -(len(shown.split(".")[1]) if "." in shown else 0)
            if c["kind"] == "trend" and not lo - half <= _number(table) <= hi + half:
                problems.append(f"{name}: table {table!r} outside the axis {c['y']}")
        for point in c["points"]:
            value = re.split(r"(?:value|days|hours|count): ", point)[-1].split(";")[0]
            if not lo <= _number(value) <= hi or value.endswith("%") != c["y"][0].endswith("%"):
                problems.append(f"{name}: point {point!r} off the axis {c['y']}")
    for e in seen["effects"]:
        for c in seen["charts"]:
            drawn = c["kind"] == "control" and c["sign"] == e["sign"] and e["since"][:7] in c["x"]
            if drawn and (e["since"][:7] not in c["adopted"] or f"adopted {e['since']}" not in c["words"]):
                problems.append(f"control {c['sign']}: no marker at the adoption {e['since']}")
    return problems


@pytest.fixture(scope="session")
def report_chart_problems(read_report_charts: Any) -> Any:
    """``check(report) -> (what Chromium saw, the problems a reader would find)``."""

    def check(report: Path) -> tuple[dict[str, Any], list[str]]:
        seen = read_report_charts(report)
        return seen, chart_problems(seen)

    return check
