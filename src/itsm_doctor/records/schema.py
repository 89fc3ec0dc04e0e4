"""Arrow schemas of the canonical records (see docs/records.md).

Every table is plain Arrow so that DuckDB, Spark and any Parquet reader open it
without ITSM Doctor installed. All times are ``timestamp[us, tz=UTC]``. Ids are
``"{source}:{native}"`` strings. ``raw`` is a JSON object of the source columns
that had no canonical home (custom fields such as ServiceNow ``u_*``).
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "SCHEMAS",
    "TABLES",
    "TS",
    "duckdb_columns",
]

TS = pa.timestamp("us", tz="UTC")
_STR = pa.string()
_INT = pa.int32()
_BIG = pa.int64()
_F64 = pa.float64()
_BOOL = pa.bool_()
_STRS = pa.list_(pa.string())


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


TICKET = _schema(
    ("ticket_id", _STR),
    ("source", _STR),
    ("source_key", _STR),
    ("ticket_type", _STR),
    ("request_level", _STR),
    ("parent_ticket_id", _STR),
    ("title", _STR),
    ("category_path", _STRS),
    ("category", _STR),
    ("service_id", _STR),
    ("ci_id", _STR),
    ("channel", _STR),
    ("priority", _INT),
    ("priority_raw", _STR),
    ("impact", _INT),
    ("impact_raw", _STR),
    ("urgency", _INT),
    ("urgency_raw", _STR),
    ("status", _STR),
    ("pending_reason", _STR),
    ("status_raw", _STR),
    ("status_reason_raw", _STR),
    ("requester_id", _STR),
    ("assigned_group_id", _STR),
    ("assignee_id", _STR),
    ("opened_at", TS),
    ("first_assigned_at", TS),
    ("first_response_at", TS),
    ("resolved_at", TS),
    ("closed_at", TS),
    ("cancelled_at", TS),
    ("due_at", TS),
    ("resolution_code", _STR),
    ("resolution_code_raw", _STR),
    ("reopen_count", _INT),
    ("reassignment_count", _INT),
    ("sla_met", _BOOL),
    ("first_contact_resolved", _BOOL),
    ("problem_id", _STR),
    ("caused_by_change_id", _STR),
    ("fixed_by_change_id", _STR),
    ("is_major", _BOOL),
    ("change_type", _STR),
    ("change_risk", _INT),
    ("change_outcome", _STR),
    ("planned_start", TS),
    ("planned_end", TS),
    ("actual_start", TS),
    ("actual_end", TS),
    ("raw", _STR),
)

EVENT = _schema(
    ("event_id", _STR),
    ("ticket_id", _STR),
    ("seq", _INT),
    ("ts", TS),
    ("kind", _STR),
    ("field", _STR),
    ("from_raw", _STR),
    ("to_raw", _STR),
    ("from_status", _STR),
    ("to_status", _STR),
    ("pending_reason", _STR),
    ("from_group_id", _STR),
    ("to_group_id", _STR),
    ("from_agent_id", _STR),
    ("to_agent_id", _STR),
    ("actor_id", _STR),
    ("activity", _STR),
    ("lifecycle", _STR),
    ("origin", _STR),
    ("source", _STR),
    ("raw", _STR),
)

STATUS_INTERVAL = _schema(
    ("ticket_id", _STR),
    ("seq", _INT),
    ("status", _STR),
    ("pending_reason", _STR),
    ("group_id", _STR),
    ("assignee_id", _STR),
    ("start", TS),
    ("end", TS),
    ("duration_s", _F64),
    ("business_duration_s", _F64),
)

GROUP = _schema(
    ("group_id", _STR),
    ("name", _STR),
    ("parent_group_id", _STR),
    ("tier", _INT),
    ("kind", _STR),
    ("org_line", _STR),
    ("source", _STR),
    ("source_id", _STR),
)

AGENT = _schema(
    ("agent_id", _STR),
    ("display_name", _STR),
    ("role", _STR),
    ("is_system", _BOOL),
    ("is_vendor", _BOOL),
    ("group_ids", _STRS),
    ("source", _STR),
    ("source_id", _STR),
)

SERVICE = _schema(
    ("service_id", _STR),
    ("name", _STR),
    ("kind", _STR),
    ("ci_class", _STR),
    ("parent_service_id", _STR),
    ("criticality", _INT),
    ("source", _STR),
    ("source_id", _STR),
)

SLA_TARGET = _schema(
    ("sla_target_id", _STR),
    ("name", _STR),
    ("metric", _STR),
    ("ticket_type", _STR),
    ("priority", _INT),
    ("target_s", _F64),
    ("calendar", _STR),
    ("pause_on", _STRS),
    ("kind", _STR),
    ("source", _STR),
)

SLA_RECORD = _schema(
    ("ticket_id", _STR),
    ("sla_target_id", _STR),
    ("sla_name", _STR),
    ("metric", _STR),
    ("cycle", _INT),
    ("start", TS),
    ("stop", TS),
    ("breach_at", TS),
    ("stage", _STR),
    ("breached", _BOOL),
    ("elapsed_s", _F64),
    ("business_elapsed_s", _F64),
    ("paused_s", _F64),
    ("source", _STR),
)

SURVEY_RESPONSE = _schema(
    ("response_id", _STR),
    ("ticket_id", _STR),
    ("respondent_id", _STR),
    ("sent_at", TS),
    ("answered_at", TS),
    ("score", _F64),
    ("scale_min", _F64),
    ("scale_max", _F64),
    ("score_norm", _F64),
    ("comment", _STR),
    ("source_question", _STR),
    ("source", _STR),
)

LINK = _schema(
    ("from_ticket_id", _STR),
    ("to_ticket_id", _STR),
    ("relation", _STR),
    ("source", _STR),
)

SCHEMAS: dict[str, pa.Schema] = {
    "ticket": TICKET,
    "event": EVENT,
    "status_interval": STATUS_INTERVAL,
    "group": GROUP,
    "agent": AGENT,
    "service": SERVICE,
    "sla_target": SLA_TARGET,
    "sla_record": SLA_RECORD,
    "survey_response": SURVEY_RESPONSE,
    "link": LINK,
}
TABLES: tuple[str, ...] = tuple(SCHEMAS)

_DUCK = {
    _STR: "VARCHAR",
    _INT: "INTEGER",
    _BIG: "BIGINT",
    _F64: "DOUBLE",
    _BOOL: "BOOLEAN",
    TS: "TIMESTAMPTZ",
    _STRS: "VARCHAR[]",
}


def duckdb_columns(table: str) -> list[tuple[str, str]]:
    """The (name, DuckDB type) pairs of a canonical table, in schema order."""
    return [(f.name, _DUCK[f.type]) for f in SCHEMAS[table]]
