"""``docs/signs.md``, generated from the sign registry (the code owns the facts).

Regenerate with ``python -m itsm_doctor.signs.document docs/signs.md``; a test fails when the
file is stale. The BPIC 2013 figures below are measured by ``tests/signs/test_bpic2013_signs.py``
on the public log, which fails when they no longer match.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from itsm_doctor.signs import AREAS, SIGNS, Sign
from itsm_doctor.signs.process import lifecycle

__all__ = ["BPIC2013_FINDINGS", "RealDataFinding", "main", "render_markdown"]


@dataclass(frozen=True, kw_only=True)
class RealDataFinding:
    """A sign measured on a public log, beside the question it answers."""

    sign: str
    question: str
    value: float  # rounded to 4 decimals
    count: int  # tickets with the trait
    of: int  # tickets measured
    reference: str


BPIC2013_FINDINGS: tuple[RealDataFinding, ...] = (
    RealDataFinding(
        sign="desk.first_line_only_rate",
        question=(
            "Push to front: is most work done by the first line, or are incidents pushed to the 2nd and 3rd "
            "line too often or too soon?"
        ),
        value=0.6018,
        count=4546,
        of=7554,
        reference=(
            "independent recount from the CSV (Python standard library): 60.2 % of cases have every event at "
            "ST Level L1; 11.3 % start above L1"
        ),
    ),
    RealDataFinding(
        sign="incident.ping_pong_rate",
        question="Ping-pong: do incidents bounce between support teams, and how often?",
        value=0.1558,
        count=1177,
        of=7554,
        reference="independent recount from the CSV: 15.6 % have X → Y → X in the collapsed Involved ST sequence",
    ),
    RealDataFinding(
        sign="incident.wait_user_rate",
        question=(
            "Wait-user abuse: is the 'Wait - User' sub-status used so widely that it may hide resolution time "
            "from the SLA clock?"
        ),
        value=0.3376,
        count=2550,
        of=7554,
        reference=(
            "independent recount from the CSV: 2,495 cases (33.0 %) have a 'Wait - User' event; ITSM Doctor also "
            "reads 'Wait - Customer' as awaiting the user, which adds 55 cases"
        ),
    ),
)

_AREA_TEXT = {
    "compliance": "Are the practices followed as defined (records, lifecycle, service levels)?",
    "quality": "How well is the work done (first time right, no bouncing, no reopening)?",
    "performance": "How fast and how efficiently does work flow?",
    "value": "Does the service make a difference to its customers and stay resilient?",
}


def _number(value: float) -> str:
    return f"{value:g}"


def _needs(sign: Sign) -> str:
    parts = [" or ".join(f"`{o}`" for o in need.split("|")) for need in sign.needs]
    return "; ".join(parts)


def _na_when(sign: Sign) -> str:
    """When the sign is n/a, in words: its inputs missing, what it needs beyond them, too few."""
    lacks = [
        f"`{need}`" if "|" not in need else "none of " + ", ".join(f"`{o}`" for o in need.split("|"))
        for need in sign.needs
    ]
    parts = ["the records have no " + ", or ".join(lacks)]
    if sign.na_when:
        parts.append(sign.na_when)
    parts.append("no ticket to measure" if sign.per_ticket else "too few records for its summary (reason given)")
    text = "; ".join(parts)
    if sign.detail is not None:
        text += ". How the value was reached (e.g. history against the source's counter) is in its `detail` breakdown"
    return text + "."


def _sign_section(sign: Sign) -> list[str]:
    b = sign.benchmark
    better = "higher" if sign.direction == "higher" else "lower"
    return [
        f"### `{sign.id}` — {sign.name}",
        "",
        sign.definition,
        "",
        f"- **Area / practice:** {sign.area} · {sign.practice}",
        f"- **Unit:** {sign.unit}; **{better} is better**",
        f"- **Band:** good {_number(b.good)}, poor {_number(b.poor)} — {b.source}",
        f"- **Reads:** {_needs(sign)}",
        f"- **n/a when:** {_na_when(sign)}",
        f"- **Aggregate:** {sign.aggregate if sign.per_ticket else 'computed from a summary of the records'}",
        "",
    ]


def _lifecycle() -> list[str]:
    spec = lifecycle()
    lines = ["| from | allowed moves to |", "| --- | --- |", f"| (start) | {', '.join(spec['starts'])} |"]
    lines += [f"| {a} | {', '.join(tos) or '—'} |" for a, tos in spec["moves"].items()]
    return lines


def _real_data() -> list[str]:
    lines = [
        "| challenge question | sign | ITSM Doctor | tickets | reference |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in BPIC2013_FINDINGS:
        lines.append(f"| {f.question} | `{f.sign}` | **{f.value:.2%}** | {f.count:,} of {f.of:,} | {f.reference} |")
    return lines


def render_markdown() -> str:
    """The whole docs/signs.md."""
    lines = [
        "# The sign library",
        "",
        "<!-- generated by `python -m itsm_doctor.signs.document docs/signs.md` from the registry in "
        "src/itsm_doctor/signs/; do not edit by hand -->",
        "",
        f"ITSM Doctor measures **{len(SIGNS)} signs** from a patient's records, in four audit areas. Every sign is",
        "metadata plus one small Ibis expression that gives a value per ticket (1/0 for a share, hours for a",
        "duration) or a small summary; a shared `compute` aggregates it (mean, median or p90), breaks it down",
        "by group, tier, priority, category, service and month of opening, and rates the headline against",
        "its band: **good** at or beyond the good bound, **poor** at or beyond the poor bound, **fair** in",
        "between, **n/a** when the records lack the sign's inputs (the reason is given). The same expressions",
        "run on DuckDB (`--engine duckdb`, the default) and on Spark (`--engine spark`).",
        "",
        "Units: `ratio` is a fraction in [0, 1]; `h` calendar hours; `count` a plain number; `rho` a",
        "rank correlation in [−1, 1]. A band marked *no published benchmark* is ITSM Doctor's working band, to",
        "be calibrated on the simulator and on real logs; the others name their published source.",
        "",
        "## Summary",
        "",
        "| sign | area | practice | unit | better | good | poor |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in SIGNS:
        lines.append(
            f"| `{s.id}` | {s.area} | {s.practice} | {s.unit} | {s.direction} | "
            f"{_number(s.benchmark.good)} | {_number(s.benchmark.poor)} |"
        )
    lines.append("")
    for area in AREAS:
        lines += [f"## {area.capitalize()}", "", _AREA_TEXT[area], ""]
        for s in SIGNS:
            if s.area == area:
                lines += _sign_section(s)
    lines += [
        "## The reference incident lifecycle",
        "",
        "`process.lifecycle_conformance` checks each incident's status path (consecutive repeats collapsed)",
        "against this lifecycle, kept as data in `src/itsm_doctor/signs/lifecycle.yaml`:",
        "",
        *_lifecycle(),
        "",
        "## Process mining",
        "",
        "`itsm_doctor.signs.mining` computes, on the engine (window functions, no Python loop over tickets):",
        "the directly-follows graph of statuses and of groups (`dfg(r, level=...)`: each move's frequency and",
        "the median hours spent before it), the handover network between groups, the most frequent variants",
        "(status paths) with their share, and case durations. The examination JSON carries them under",
        "`process`.",
        "",
        "## On real data: BPI Challenge 2013 (Volvo IT Belgium, VINST incidents)",
        "",
        "The BPI Challenge 2013 asked four questions of Volvo IT's incident log. Three are answered by a",
        "sign; the fourth (process conformity per organisation) by `process.lifecycle_conformance` broken",
        "down by group. Measured with `itsm-doctor examine VINST-incidents.csv.gz --source bpic2013` (group =",
        "`Involved ST`, tier = `ST Level`), on 7,554 incidents and 65,533 events:",
        "",
        *_real_data(),
        "",
        "Source of the questions: the BPI Challenge 2013 call (Volvo IT Belgium) and the CEUR-WS Vol-1052",
        "reports that answer them (e.g. Hansen, *Analysing Volvo IT Belgium incident and problem management",
        "data using automated business process discovery*, paper 6).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write docs/signs.md (or the file named) from the registry."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("docs/signs.md")
    target.write_text(render_markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
