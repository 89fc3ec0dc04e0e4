"""The closed vocabularies of the canonical model.

Sources map their own words onto these; the raw words are always kept beside them.
"""

from __future__ import annotations

__all__ = [
    "CHANNELS",
    "CLOSURE_CODES",
    "EVENT_KINDS",
    "GROUP_KINDS",
    "LIFECYCLE_ACTIVITIES",
    "OPEN_STATUSES",
    "ORIGINS",
    "PENDING_REASONS",
    "RELATIONS",
    "RESOLUTION_CODES",
    "STATUSES",
    "TICKET_TYPES",
    "closure_code_sql",
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

# Common words of closure codes (lower case, trimmed) → resolution code. Extend it here; a
# word not listed reads "other". Out of scope (``incident.out_of_scope_rate``) is ``rejected``
# (referred elsewhere, not supported) or ``no_fault`` (works as designed: not an incident).
CLOSURE_CODES: dict[str, str] = {
    # solved
    "solved": "solved",
    "resolved": "solved",
    "fixed": "solved",
    "solved (permanently)": "solved",
    "permanent fix": "solved",
    "software": "solved",
    "hardware": "solved",
    "data": "solved",
    "operator error": "solved",
    # workaround
    "workaround": "workaround",
    "solved (work around)": "workaround",
    "solved (workaround)": "workaround",
    "work around": "workaround",
    # duplicate
    "duplicate": "duplicate",
    "duplicated": "duplicate",
    # no fault: the service works as designed (a user error is still help given: not listed)
    "no error - works as designed": "no_fault",
    "works as designed": "no_fault",
    "no fault found": "no_fault",
    "no error": "no_fault",
    # not reproducible
    "not reproducible": "not_reproducible",
    "not solved (not reproducible)": "not_reproducible",
    "cannot reproduce": "not_reproducible",
    "unable to reproduce": "not_reproducible",
    # cancelled by the caller
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "withdrawn": "cancelled",
    "closed/resolved by caller": "cancelled",
    # rejected: referred elsewhere, out of scope, not supported
    "referred": "rejected",
    "rejected": "rejected",
    "out of scope": "rejected",
    "not supported": "rejected",
    "declined": "rejected",
    "not solved (too costly)": "rejected",
    "invalid": "rejected",
}

# Common activity names of generic event logs (XES, mapped CSV; lower case, trimmed) → the
# canonical status they move a ticket to, as "status" or "status/pending reason". A log whose
# activities name none of these has no lifecycle the records can tell: give a mapping.
LIFECYCLE_ACTIVITIES: dict[str, str] = {
    "open": "new",
    "opened": "new",
    "new": "new",
    "create": "new",
    "created": "new",
    "create ticket": "new",
    "insert ticket": "new",
    "register": "new",
    "registered": "new",
    "log incident": "new",
    "assign": "assigned",
    "assigned": "assigned",
    "assignment": "assigned",
    "reassignment": "assigned",
    "take in charge ticket": "in_progress",
    "in progress": "in_progress",
    "accepted": "in_progress",
    "start": "in_progress",
    "started": "in_progress",
    "wait": "pending/unknown",
    "waiting": "pending/unknown",
    "pending": "pending/unknown",
    "on hold": "pending/unknown",
    "wait - user": "pending/awaiting_user",
    "wait - customer": "pending/awaiting_user",
    "awaiting user": "pending/awaiting_user",
    "awaiting customer": "pending/awaiting_user",
    "awaiting user info": "pending/awaiting_user",
    "pending vendor": "pending/awaiting_vendor",
    "awaiting vendor": "pending/awaiting_vendor",
    "resolve": "resolved",
    "resolved": "resolved",
    "resolve ticket": "resolved",
    "solved": "resolved",
    "fixed": "resolved",
    "verified": "resolved",
    "close": "closed",
    "closed": "closed",
    "close ticket": "closed",
    "complete": "closed",
    "completed": "closed",
    "done": "closed",
    "finished": "closed",
    "cancel": "cancelled",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "withdrawn": "cancelled",
    "aborted": "cancelled",
    "invalid": "cancelled",
    "duplicate": "cancelled",
}


def closure_code_sql(expr: str) -> str:
    """SQL mapping a closure-code cell (``expr``) to a resolution code through ``CLOSURE_CODES``:
    null stays null, an unlisted word reads "other". The words are the code's own constants."""
    cases = " ".join(f"WHEN '{w.replace(chr(39), chr(39) * 2)}' THEN '{c}'" for w, c in CLOSURE_CODES.items())
    return f"CASE WHEN ({expr}) IS NULL THEN NULL ELSE CASE lower(trim({expr})) {cases} ELSE 'other' END END"
