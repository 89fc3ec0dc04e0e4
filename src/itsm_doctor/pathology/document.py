"""Write docs/pathology.md from the catalog: ``python -m itsm_doctor.pathology.document [FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path

from itsm_doctor.pathology.load import load_catalog
from itsm_doctor.pathology.model import SignRule

__all__ = ["render"]


def _rule(r: SignRule) -> str:
    side = f"above {r.above:g}" if r.above is not None else f"below {r.below:g}"
    if r.role == "against":
        return f"`{r.sign}` {side} rules it out (weight {r.weight:g})"
    kind = "" if r.discriminating else "; corroborating only"
    return f"`{r.sign}` {side} (width {r.width:g}, weight {r.weight:g}{kind})"


def render() -> str:
    catalog = load_catalog()
    lines = [
        "# The pathology catalog",
        "",
        "Generated from `src/itsm_doctor/pathology/catalog/*.yaml` by `python -m itsm_doctor.pathology.document`;",
        "a test fails when this page is stale. How evidence becomes a verdict: `docs/adr/0003-diagnosis-method.md`",
        "and `docs/adr/0007-diagnosis-evidence-sufficiency-and-contrasts.md`.",
        "",
    ]
    for d in catalog.dysfunctions:
        lines += [f"## {d.name} (`{d.id}`)", "", d.description, ""]
        if d.needs_visits > 1:
            lines += [f"Needs {d.needs_visits} visits before a verdict.", ""]
        lines += [f"**Signs** (prior log-odds {d.prior:g}):", ""]
        lines += [f"- {_rule(r)}" for r in d.signs]
        if d.symptoms:
            lines += ["", "**Symptoms**: " + ", ".join(f"`{s.question}` (weight {s.weight:g})" for s in d.symptoms)]
        if d.differential:
            lines += ["", "**Differential**:", ""]
            lines += [f"- vs `{x.dysfunction}` — `{x.telling_sign}`: {x.note}" for x in d.differential]
        lines += ["", "**Causes**: " + "; ".join(c.name for c in d.causes), "", "**Prescriptions**:", ""]
        for p in d.prescriptions:
            moves = ", ".join(f"`{m.sign}` {'↓' if m.direction == 'down' else '↑'}" for m in p.moves)
            lines.append(
                f"- *{p.title}* — {p.practice}; owner {p.owner}; sphere {p.sphere}; effort {p.effort}; "
                f"moves {moves}; follow up after {p.follow_up_days} days."
            )
        lines += ["", "**References**: " + "; ".join(d.references), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/pathology.md")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
