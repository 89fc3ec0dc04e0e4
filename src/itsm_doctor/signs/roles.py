"""Support roles (tiers) inferred from the records when the export gives none.

Most exports carry no tier column (a ServiceNow snapshot log, Jira, generic XES), so every
sign that needs the front line (first-line-only, quick escalation, agent inconsistency)
would be n/a and the desk's dysfunctions never found. The records themselves show the
roles: the front line is the group that first receives most incidents (with any other group
first receiving at least ``FRONT_SHARE`` of them), and the other groups' levels follow the
routing order — a group usually reached straight after the front line is tier 2, one
usually reached later is tier 3. A mapping file (``group: tier``) overrides the inference;
tiers the export does carry are kept as they are.

``apply_roles`` puts the tiers into the records' ``group`` table (so every sign reads them
as if the export had them) and returns ``Roles``, which the examination shows so that the
report can say the roles were inferred and how.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import pyarrow as pa
import yaml
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.records.schema import SCHEMAS

__all__ = ["FRONT_SHARE", "MIN_TICKETS", "Roles", "RolesError", "apply_roles", "infer_tiers", "load_roles"]

FRONT_SHARE = 0.15  # a second group first receiving this share of incidents is front line too
MIN_TICKETS = 30  # incidents with a known first group needed before roles are inferred


class RolesError(ValueError):
    """A roles mapping file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, kw_only=True)
class Roles:
    """Where each group's tier comes from: ``records`` (the export's own tier column),
    ``inferred`` (routing order), ``mapping`` (a file), or ``none`` (not enough records)."""

    source: Literal["records", "inferred", "mapping", "none"]
    tiers: dict[str, int] = field(default_factory=dict)
    front_line: tuple[str, ...] = ()
    basis: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "tiers": self.tiers, "front_line": list(self.front_line), "basis": self.basis}


def load_roles(path: Path) -> dict[str, int]:
    """A roles mapping file: YAML ``group name or id: tier`` (1, 2 or 3), optionally under ``tiers:``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RolesError(f"{path}: cannot be read as YAML: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("tiers"), dict):
        data = data["tiers"]
    if not isinstance(data, dict) or not data:
        raise RolesError(f"{path}: expected a mapping of group to tier, e.g. 'Service Desk: 1'")
    out: dict[str, int] = {}
    for key, tier in data.items():
        if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= 3:
            raise RolesError(f"{path}: group {key!r}: tier must be 1, 2 or 3, not {tier!r}")
        out[str(key)] = tier
    return out


def infer_tiers(
    first_counts: Mapping[str, int], reach_steps: Mapping[str, list[int]]
) -> tuple[dict[str, int], tuple[str, ...], str]:
    """Tiers from routing: ``first_counts`` (group → incidents it received first) and
    ``reach_steps`` (group → for each incident it held, the 1-based position at which it was
    first reached in the incident's path of groups). Returns (tiers, front line, basis)."""
    total = sum(first_counts.values())
    if total < MIN_TICKETS:
        return {}, (), f"only {total} incidents with a known first group (need {MIN_TICKETS})"
    ranked = sorted(first_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    front = tuple(g for i, (g, n) in enumerate(ranked) if i == 0 or n / total >= FRONT_SHARE)
    tiers = {g: 1 for g in front}
    for group, steps in sorted(reach_steps.items()):
        if group in tiers or not steps:
            continue
        # a median of 2 = usually reached right after the front line
        tiers[group] = 2 if statistics.median(steps) <= 2 else 3
    share = sum(first_counts[g] for g in front) / total
    basis = (
        f"front line = the group(s) first receiving most incidents ({', '.join(front)}: {share:.0%} of {total}); "
        "tier 2 = usually reached next, tier 3 = later"
    )
    return tiers, front, basis


def _routing(r: Records) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Per group: incidents it received first, and the steps at which it was first reached."""
    from itsm_doctor.signs.common import collapsed  # a sibling module, imported late to avoid a cycle

    c = collapsed(r, "to_group_id")
    firsts = c.group_by(["ticket_id", "node"]).aggregate(step=_.step.min())
    rows = r.execute(firsts.group_by(["node", "step"]).aggregate(n=_.count())).to_pylist()
    first_counts: dict[str, int] = {}
    reach: dict[str, list[int]] = {}
    for row in rows:
        group, step, n = str(row["node"]), int(row["step"]) + 1, int(row["n"])  # ``step`` counts from 0
        if step == 1:
            first_counts[group] = first_counts.get(group, 0) + n
        reach.setdefault(group, []).extend([step] * min(n, 10_000))  # a bounded sample per step
    return first_counts, reach


def _match(mapping: Mapping[str, int], groups: list[dict[str, Any]]) -> dict[str, int]:
    out = {}
    for g in groups:
        for key in (g["group_id"], g["name"]):
            if key is not None and str(key) in mapping:
                out[str(g["group_id"])] = mapping[str(key)]
    return out


def apply_roles(r: Records, *, mapping: Mapping[str, int] | None = None) -> Roles:
    """Fill the records' group tiers (from ``mapping``, else inferred when the export has none)."""
    groups = r.execute(r["group"]).to_pylist()
    if mapping:
        tiers = _match(mapping, groups)
        unknown = sorted(set(mapping) - {str(g["group_id"]) for g in groups} - {str(g["name"]) for g in groups})
        basis = "from the roles mapping file" + (f"; not in these records: {', '.join(unknown)}" if unknown else "")
        front = tuple(sorted(g for g, t in tiers.items() if t == 1))
        _write_tiers(r, groups, tiers)
        return Roles(source="mapping", tiers=tiers, front_line=front, basis=basis)
    known = {str(g["group_id"]): int(g["tier"]) for g in groups if g["tier"] is not None}
    if known:
        front = tuple(sorted(g for g, t in known.items() if t == 1))
        return Roles(source="records", tiers=known, front_line=front, basis="the export's own tier column")
    if not r.has("event"):
        return Roles(source="none", basis="no event history to infer routing from")
    first_counts, reach = _routing(r)
    tiers, front, basis = infer_tiers(first_counts, reach)
    if not tiers:
        return Roles(source="none", basis=basis)
    _write_tiers(r, groups, tiers)
    return Roles(source="inferred", tiers=tiers, front_line=front, basis=basis)


def _write_tiers(r: Records, groups: list[dict[str, Any]], tiers: Mapping[str, int]) -> None:
    """Replace the records' group table by one carrying ``tiers`` (groups only named by
    events or tickets are added), so that every sign reads them."""
    rows = {str(g["group_id"]): dict(g) for g in groups}
    for gid, tier in tiers.items():
        rows.setdefault(gid, {"group_id": gid, "name": gid})["tier"] = tier
    schema = SCHEMAS["group"]
    data = pa.Table.from_pylist([{f.name: row.get(f.name) for f in schema} for row in rows.values()], schema=schema)
    name = f"group_roles_{uuid.uuid4().hex[:10]}"
    if r.engine == "spark":
        from itsm_doctor.engine import spark_session

        spark_session().createDataFrame(data.to_pandas()).createOrReplaceTempView(name)
        table = r.con.table(name)
    else:
        table = r.con.create_table(name, schema=ibis.Schema.from_pyarrow(schema), temp=True)
        if data.num_rows:
            r.con.insert(name, data)
            table = r.con.table(name)
    r.tables["group"] = table
    r.counts["group"] = data.num_rows
    for key in ("tier_reach", "ticket_dims"):  # building blocks that read tiers are stale
        r._shared.pop(key, None)
