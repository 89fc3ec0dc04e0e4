"""Propose the source of an uploaded export from its header line (the user may choose another).

The signatures are the columns each reader needs (its module's column names, the presets'
YAML for the mapped CSV sources); the source's own ``recognises`` must also take the file,
so a proposal is always a reader that accepts it. ``None`` when nothing fits: the user chooses.
"""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import yaml

from itsm_doctor.sources import get_source
from itsm_doctor.sources.files import decode_head, detect_encoding, read_sheet, sniff_separator

__all__ = ["header_of", "propose_source"]

# The columns that name a source's export; every one must be in the header (case and spaces ignored).
_SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("jira", frozenset({"issue key"})),
    ("bpic2013", frozenset({"sr number", "change date+time", "status", "sub status"})),
    ("bpic2014", frozenset({"incident id", "ci name (aff)", "closure code"})),
    ("bpic2014", frozenset({"interaction id", "ci name (aff)"})),
    ("bpic2014", frozenset({"change id", "ci name (aff)"})),
    ("bpic2014", frozenset({"incident id", "detail incident activity.incidentactivity_type"})),
    ("servicenow", frozenset({"number", "incident_state", "sys_updated_at"})),
    ("servicenow", frozenset({"number", "incident_state", "sys_updated_on"})),
    ("servicenow", frozenset({"number", "state", "sys_updated_on"})),
    ("servicenow", frozenset({"number", "state", "sys_created_on"})),
)
_PRESETS = ("glpi", "itop", "zammad", "znuny")


def _norm(name: str) -> str:
    return " ".join(name.strip().strip('"').lower().split())


def header_of(path: Path) -> list[str]:
    """The first row of a CSV (plain or gzip) or XLSX export, as the readers decode it."""
    name = path.name.lower()
    if name.endswith(".xlsx"):
        rows = read_sheet(path)
        return [str(c) if c is not None else "" for c in (rows[0] if rows else [])]
    with path.open("rb") as fh:
        raw = fh.read(1 << 16)
    if raw[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as fh:
            raw = fh.read(1 << 16)
    encoding, _ = detect_encoding(raw, None)
    text = decode_head(raw, encoding).lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    if first.lower().startswith("sep="):
        first = text.splitlines()[1] if len(text.splitlines()) > 1 else ""
    return [c.strip().strip('"') for c in first.split(sniff_separator(first))]


def _preset_columns(name: str) -> set[str]:
    text = (resources.files("itsm_doctor.sources") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")
    columns = (yaml.safe_load(text) or {}).get("columns") or {}
    return {_norm(str(v)) for v in columns.values() if isinstance(v, str)}


def propose_source(path: Path, kind: str) -> str | None:
    """The source whose reader takes this file and whose columns its header holds, or None."""
    if kind == "xes":
        return "xes" if get_source("xes").recognises(path) else None
    if kind == "json":
        return "jira" if get_source("jira").recognises(path) else None
    if kind not in ("csv", "xlsx"):
        return None
    try:
        header = {_norm(c) for c in header_of(path)}
    except (OSError, UnicodeError, ValueError, EOFError):
        return None
    for source, needed in _SIGNATURES:
        if needed <= header and get_source(source).recognises(path):
            return source
    best, best_hits = None, 0
    for preset in _PRESETS:
        wanted = _preset_columns(preset)
        hits = len(wanted & header)
        # most of a preset's columns present: its export (a partial match is left to the user)
        if hits >= max(4, int(0.7 * len(wanted))) and hits > best_hits and get_source(preset).recognises(path):
            best, best_hits = preset, hits
    return best
