"""How the Jira reader maps a Jira Service Management site onto the canonical records.

The defaults fit JSM's ITSM templates; ``--mapping FILE`` (YAML, keys below) adds to them or
changes them for a site with its own team field, statuses, priority scheme or link types:

```yaml
group_fields: ["Support team"]        # tried in order; the first the export holds is the group
statuses: {"Awaiting CAB": pending/awaiting_approval}
priorities: {"P1 - Outage": 1, "P2": 2}
link_types:
  Fixes: {relation: fixed_by, outward_from: linked}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from itsm_doctor.records.vocabulary import PENDING_REASONS, RELATIONS
from itsm_doctor.records.vocabulary import STATUSES as CANONICAL_STATUSES
from itsm_doctor.sources.base import IntakeError

__all__ = [
    "CI_FIELDS",
    "GROUP_FIELDS",
    "LINK_TYPES",
    "PRIORITIES",
    "RESOLUTIONS",
    "STATUSES",
    "JiraMapping",
    "LinkType",
    "group_field_names",
    "load_jira_mapping",
]

# Where a JSM site keeps the team holding an issue: the Team field, an "Assignment group"
# custom field, else its components (a common stand-in for resolver teams).
GROUP_FIELDS: tuple[str, ...] = ("Team", "Assignment group", "Component/s")
# Where it keeps the configuration item (an Assets object field)
CI_FIELDS: tuple[str, ...] = ("Configuration item", "Affected hardware")

# status name (lower case) → "status" or "status/pending_reason" (domain/sources.md §7)
STATUSES: dict[str, str] = {
    "open": "new",
    "to do": "new",
    "new": "new",
    "waiting for support": "new",
    "backlog": "new",
    "escalated": "assigned",
    "assigned": "assigned",
    "planning": "assigned",
    "in progress": "in_progress",
    "work in progress": "in_progress",
    "implementing": "in_progress",
    "reopened": "in_progress",
    "waiting for customer": "pending/awaiting_user",
    "pending": "pending/unknown",
    "waiting for vendor": "pending/awaiting_vendor",
    "waiting for approval": "pending/awaiting_approval",
    "awaiting cab approval": "pending/awaiting_approval",
    "peer review / change manager approval": "pending/awaiting_approval",
    "awaiting implementation": "pending/scheduled",
    "resolved": "resolved",
    "done": "resolved",
    "completed": "resolved",
    "closed": "closed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "declined": "cancelled",
}

# priority name (lower case) → rank in its scheme, 1 = most urgent. JSM's scheme has five
# levels (Lowest = 5); the ticket's canonical priority folds 5 into 4, events keep the rank.
PRIORITIES: dict[str, int] = {
    "highest": 1,
    "blocker": 1,
    "critical": 1,
    "high": 2,
    "major": 2,
    "medium": 3,
    "low": 4,
    "minor": 4,
    "lowest": 5,
    "trivial": 5,
}


# resolution name (lower case) → canonical resolution code; another name reads as ``other``
RESOLUTIONS: dict[str, str] = {
    "done": "solved",
    "fixed": "solved",
    "resolved": "solved",
    "completed": "solved",
    "workaround": "workaround",
    "known error": "workaround",
    "duplicate": "duplicate",
    "cannot reproduce": "not_reproducible",
    "won't do": "rejected",
    "won't fix": "rejected",
    "declined": "rejected",
    "incomplete": "cancelled",
    "canceled": "cancelled",
    "cancelled": "cancelled",
}


class LinkType(BaseModel):
    """A Jira issue-link type read as a canonical link.

    ``outward_from`` says which issue is the link's ``from_ticket_id`` when the export shows
    the outward direction (``Outward issue link (Causes)`` on issue A naming B: "A causes B"):
    ``linked`` (B: B is caused by A) or ``this`` (A). The inward column is the mirror image."""

    model_config = ConfigDict(extra="forbid")

    relation: str
    outward_from: Literal["this", "linked"] = "this"

    @field_validator("relation")
    @classmethod
    def _known_relation(cls, v: str) -> str:
        if v not in RELATIONS:
            raise ValueError(f"{v!r} is not a canonical link relation ({', '.join(RELATIONS)})")
        return v


# link type name (lower case) → how it reads; a type not listed is read as ``related`` (noted)
LINK_TYPES: dict[str, LinkType] = {
    # "A causes B": B is caused by A
    "causes": LinkType(relation="caused_by", outward_from="linked"),
    # JSM's own: "problem P causes incident I" — P is the problem of I
    "problem/incident": LinkType(relation="problem_of", outward_from="this"),
    # "A duplicates B"
    "duplicate": LinkType(relation="duplicate_of", outward_from="this"),
    # "A clones B": A originated from B
    "cloners": LinkType(relation="originated_from", outward_from="this"),
    # "A split to B": B originated from A
    "issue split": LinkType(relation="originated_from", outward_from="linked"),
    "relates": LinkType(relation="related"),
    "blocks": LinkType(relation="related"),
    "post-incident reviews": LinkType(relation="related"),
}


class JiraMapping(BaseModel):
    """The site's choices; every key is optional and adds to (or overrides) the defaults."""

    model_config = ConfigDict(extra="forbid")

    group_fields: list[str] = Field(default_factory=lambda: list(GROUP_FIELDS))
    ci_fields: list[str] = Field(default_factory=lambda: list(CI_FIELDS), description="tried in order")
    statuses: dict[str, str] = Field(default_factory=dict, description="status name → status or status/reason")
    priorities: dict[str, int] = Field(default_factory=dict, description="priority name → rank (1 = most urgent)")
    link_types: dict[str, LinkType] = Field(default_factory=dict)
    timezone: str | None = None

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, v: dict[str, str]) -> dict[str, str]:
        for word, target in v.items():
            status, _sep, reason = target.partition("/")
            if status not in CANONICAL_STATUSES:
                raise ValueError(
                    f"{word!r} maps to {status!r}, not a canonical status ({', '.join(CANONICAL_STATUSES)})"
                )
            if reason and reason not in PENDING_REASONS:
                raise ValueError(f"{word!r}: unknown pending reason {reason!r} ({', '.join(PENDING_REASONS)})")
        return v

    @field_validator("priorities")
    @classmethod
    def _ranks(cls, v: dict[str, int]) -> dict[str, int]:
        bad = {k: r for k, r in v.items() if r < 1}
        if bad:
            raise ValueError(f"priority ranks start at 1 (most urgent): {bad}")
        return v

    def status_table(self) -> list[tuple[str, str, str | None]]:
        """(name in lower case, status, pending reason) for every known status name."""
        merged = STATUSES | {k.strip().lower(): t for k, t in self.statuses.items()}
        rows = []
        for name, target in merged.items():
            status, _sep, reason = target.partition("/")
            rows.append((name, status, reason or ("unknown" if status == "pending" else None)))
        return rows

    def priority_table(self) -> list[tuple[str, int]]:
        """(name in lower case, rank) for every known priority name."""
        return list((PRIORITIES | {k.strip().lower(): r for k, r in self.priorities.items()}).items())

    def link_type(self, name: str) -> LinkType | None:
        """How the link type ``name`` reads; None when neither the defaults nor the site know it."""
        wanted = name.strip().lower()
        site = {k.strip().lower(): t for k, t in self.link_types.items()}
        return site.get(wanted) or LINK_TYPES.get(wanted)


def group_field_names(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(CSV headers, changelog field names in lower case) under which the group field ``name`` appears."""
    low = name.strip().lower()
    csv = (name, f"Custom field ({name})")
    log = (low, "component") if low == "component/s" else (low,)
    return csv, log


def load_jira_mapping(path: Path | None) -> JiraMapping:
    """The site's mapping from ``path`` (the defaults when None)."""
    if path is None:
        return JiraMapping()
    if not path.exists():
        raise IntakeError("no such mapping file", file=str(path))
    if path.is_dir():
        raise IntakeError("the mapping is a folder, not a YAML file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(f"the mapping is not UTF-8 ({exc.reason})", file=str(path)) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise IntakeError(f"the mapping is not valid YAML: {exc}", file=str(path)) from None
    try:
        return JiraMapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise IntakeError(f"mapping key {key}: {first['msg']}", file=str(path)) from None
