"""The closed vocabularies of the canonical model.

Sources map their own words onto these; the raw words are always kept beside them.
"""

from __future__ import annotations

__all__ = [
    "CHANNELS",
    "EVENT_KINDS",
    "GROUP_KINDS",
    "OPEN_STATUSES",
    "ORIGINS",
    "PENDING_REASONS",
    "RELATIONS",
    "RESOLUTION_CODES",
    "STATUSES",
    "TICKET_TYPES",
]

STATUSES: tuple[str, ...] = (
    "new",
    "assigned",
    "in_progress",
    "pending",
    "resolved",
    "closed",
    "cancelled",
)
OPEN_STATUSES: tuple[str, ...] = ("new", "assigned", "in_progress", "pending")

PENDING_REASONS: tuple[str, ...] = (
    "awaiting_user",
    "awaiting_vendor",
    "awaiting_change",
    "awaiting_problem",
    "awaiting_approval",
    "awaiting_evidence",
    "scheduled",
    "monitoring",
    "internal",
    "other",
    "unknown",
)

TICKET_TYPES: tuple[str, ...] = ("incident", "request", "problem", "change", "task", "interaction")

CHANNELS: tuple[str, ...] = (
    "phone",
    "email",
    "portal",
    "chat",
    "walk_in",
    "monitoring",
    "api",
    "other",
    "unknown",
)

EVENT_KINDS: tuple[str, ...] = (
    "created",
    "status_change",
    "pending_reason_change",
    "group_change",
    "assignee_change",
    "priority_change",
    "category_change",
    "comment_public",
    "comment_internal",
    "customer_reply",
    "vendor_contact",
    "reopen",
    "resolve",
    "close",
    "cancel",
    "link",
    "sla_start",
    "sla_pause",
    "sla_resume",
    "sla_breach",
    "sla_stop",
    "field_change",
    "activity",
)

ORIGINS: tuple[str, ...] = ("history", "snapshot_diff", "activity_log", "derived")

GROUP_KINDS: tuple[str, ...] = ("service_desk", "resolver", "vendor", "cab", "unknown")

RESOLUTION_CODES: tuple[str, ...] = (
    "solved",
    "workaround",
    "duplicate",
    "no_fault",
    "not_reproducible",
    "cancelled",
    "rejected",
    "other",
)

RELATIONS: tuple[str, ...] = (
    "caused_by",
    "fixed_by",
    "duplicate_of",
    "parent_of",
    "related",
    "originated_from",
    "problem_of",
)
