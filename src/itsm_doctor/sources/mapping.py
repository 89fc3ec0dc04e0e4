"""The YAML mapping that lets the ``csv`` source read any export (see docs/mapping.md)."""

from __future__ import annotations

import codecs
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from itsm_doctor.records.vocabulary import PENDING_REASONS, STATUSES, TICKET_TYPES
from itsm_doctor.sources.base import IntakeError

__all__ = ["TICKET_FIELDS", "LifecycleMapping", "Mapping", "load_lifecycle_mapping", "load_mapping", "preset"]

# canonical ticket fields a column may fill (the rest come from history or stay empty)
TICKET_FIELDS = (
    "ticket_id",
    "ticket_type",
    "title",
    "category",
    "service",
    "ci",
    "channel",
    "priority",
    "impact",
    "urgency",
    "status",
    "requester",
    "group",
    "agent",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "due_at",
    "resolution_code",
    "sla_met",
    "problem_id",
    "caused_by_change_id",
    "reopen_count",
    "reassignment_count",
)
EVENT_FIELDS = ("ticket_id", "ts", "activity", "status", "group", "agent", "actor")


def _statuses_known(v: dict[str, str]) -> dict[str, str]:
    for word, target in v.items():
        status, _sep, reason = target.partition("/")
        if status not in STATUSES:
            raise ValueError(f"{word!r} maps to {status!r}, not a canonical status ({', '.join(STATUSES)})")
        if reason and reason not in PENDING_REASONS:
            raise ValueError(f"{word!r}: unknown pending reason {reason!r} ({', '.join(PENDING_REASONS)})")
    return v


class Mapping(BaseModel):
    """How an export's columns and words map onto the canonical records."""

    model_config = ConfigDict(extra="forbid")

    name: str = "csv"
    layout: Literal["tickets", "events"] = Field(
        default="tickets", description="tickets: one row per ticket; events: one row per event of a ticket"
    )
    separator: str | None = None
    encoding: str | None = None
    timezone: str | None = None
    time_formats: list[str] = Field(default_factory=list, description="strptime formats tried in order; ISO always")
    null_values: list[str] = Field(default_factory=lambda: ["", "?", "N/A", "-"])
    ticket_type: str | None = Field(default=None, description="a constant type when no column holds it")
    columns: dict[str, str] = Field(description="canonical field → export column header")
    status_map: dict[str, str] = Field(default_factory=dict, description="export word → status or status/reason")
    activity_map: dict[str, str] = Field(default_factory=dict, description="events layout: activity → status")
    type_map: dict[str, str] = Field(default_factory=dict)
    priority_map: dict[str, int] = Field(default_factory=dict)
    channel_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        allowed = set(TICKET_FIELDS) | set(EVENT_FIELDS)
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {sorted(allowed)}")
        if "ticket_id" not in v:
            raise ValueError("columns must say which column holds ticket_id")
        return v

    @field_validator("status_map", "activity_map")
    @classmethod
    def _known_statuses(cls, v: dict[str, str]) -> dict[str, str]:
        return _statuses_known(v)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown text encoding {v!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None
        return v

    @field_validator("type_map")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: t for k, t in v.items() if t not in TICKET_TYPES}
        if bad:
            raise ValueError(f"unknown ticket type(s) {bad}; use {', '.join(TICKET_TYPES)}")
        return v


class LifecycleMapping(BaseModel):
    """For an event log read as it is (``--source xes --mapping FILE``): which activities move a
    ticket to which canonical status; it replaces the lifecycle vocabulary."""

    model_config = ConfigDict(extra="forbid")

    activity_map: dict[str, str] = Field(description="activity → status or status/reason")

    @field_validator("activity_map")
    @classmethod
    def _known_statuses(cls, v: dict[str, str]) -> dict[str, str]:
        return _statuses_known(v)


def load_lifecycle_mapping(path: Path) -> dict[str, str]:
    """The ``activity_map`` of a lifecycle mapping file (other keys are refused)."""
    if not path.exists():
        raise IntakeError("no such mapping file", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise IntakeError(f"the mapping is not valid YAML: {exc}", file=str(path)) from None
    try:
        return LifecycleMapping.model_validate(data).activity_map
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise IntakeError(f"mapping key {key}: {first['msg']}", file=str(path)) from None


def _parse(text: str, *, where: str) -> Mapping:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IntakeError(f"the mapping is not valid YAML: {exc}", file=where) from None
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise IntakeError(f"mapping key {key}: {first['msg']}", file=where) from None


def load_mapping(path: Path) -> Mapping:
    """The mapping file at ``path`` (UTF-8 YAML), validated; an IntakeError names what is wrong."""
    if not path.exists():
        raise IntakeError("no such mapping file (--mapping)", file=str(path))
    if not path.is_file():
        raise IntakeError("the mapping (--mapping) is a folder, not a YAML file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise IntakeError(
            f"the mapping is not UTF-8 text (byte {exc.object[exc.start]:#04x}): save it as UTF-8",
            file=str(path),
            row=line,
        ) from None
    except OSError as exc:
        raise IntakeError(f"the mapping cannot be read ({exc.strerror or exc})", file=str(path)) from None
    return _parse(text, where=str(path))


@cache
def preset(name: str) -> Mapping:
    """A bundled preset (glpi, itop, znuny, zammad)."""
    text = (resources.files("itsm_doctor.sources") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")
    return _parse(text, where=f"preset {name}")
