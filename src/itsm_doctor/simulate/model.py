"""The simulated IT organisation: services and CIs, tiered groups with agents, demand, SLA
targets, and the dysfunctions that can be switched on.

A dysfunction changes *how the organisation works* (who resolves, how queues are served,
when the clock is paused), never the measured outcome directly; the signs then see the
consequences. Severity 0 is a healthy organisation, 1 the worst the simulator produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

__all__ = [
    "BASES",
    "DYSFUNCTIONS",
    "Organisation",
    "Scenario",
    "Treatment",
    "build_organisation",
]

# Every dysfunction the records can show (stagnant-improvement needs several visits: it is
# produced by simulating visits, not by one log).
DYSFUNCTIONS: tuple[str, ...] = (
    "assignment-ping-pong",
    "backlog-growth",
    "change-induced-incidents",
    "customer-neglect",
    "desk-role-ambiguity",
    "desk-role-conflict",
    "key-person-dependency",
    "premature-resolution",
    "priority-inflation",
    "priority-not-driving-work",
    "problem-management-absent",
    "push-to-front-failure",
    "ungoverned-process",
    "wait-user-abuse",
)

# Healthy base rates: ``textbook`` (the simulator's first calibration: 24 % of incidents
# escalated, 2 % reopened, priorities spread by impact × urgency) or ``realistic`` (what the
# shared real logs show, issue 13: about 40 % of incidents reassigned, about 1 % reopened,
# 75–94 % of incidents at one priority, 1–4 % of incidents carrying a problem link).
BASES = ("textbook", "realistic")

# Resolution targets (calendar hours) per priority, for incidents and requests.
SLA_HOURS = {1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0}
REQUEST_SLA_HOURS = 40.0


@dataclass(frozen=True, kw_only=True)
class Treatment:
    """A prescription taking effect: the dysfunction's severity drops to ``to`` from ``since``."""

    dysfunction: str
    since: date
    to: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """What to simulate."""

    seed: int = 1
    tickets: int = 5_000
    start: date = date(2026, 1, 1)
    months: int = 6
    dysfunctions: dict[str, float] = field(default_factory=dict)
    treatments: tuple[Treatment, ...] = ()
    request_share: float = 0.35
    base: Literal["textbook", "realistic"] = "textbook"
    dominant_priority_share: float = 0.85  # realistic base: the share of incidents at priority 3

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ValueError(f"unknown base {self.base!r}; use one of {', '.join(BASES)}")
        if not 0.5 <= self.dominant_priority_share <= 0.99:
            raise ValueError(
                f"dominant_priority_share must be between 0.5 and 0.99, not {self.dominant_priority_share}"
            )
        unknown = sorted(set(self.dysfunctions) - set(DYSFUNCTIONS))
        if unknown:
            raise ValueError(f"unknown dysfunction(s) {', '.join(unknown)}; known: {', '.join(DYSFUNCTIONS)}")
        for name, severity in self.dysfunctions.items():
            if not 0.0 <= severity <= 1.0:
                raise ValueError(f"severity of {name} must be between 0 and 1, not {severity}")
        for t in self.treatments:
            if t.dysfunction not in DYSFUNCTIONS:
                raise ValueError(f"cannot treat unknown dysfunction {t.dysfunction!r}")

    @property
    def start_ts(self) -> float:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()

    @property
    def end_ts(self) -> float:
        month = self.start.month - 1 + self.months
        end = datetime(self.start.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return end.timestamp()

    @property
    def realistic(self) -> bool:
        return self.base == "realistic"

    def severity(self, name: str) -> float:
        return float(self.dysfunctions.get(name, 0.0))


@dataclass(frozen=True, kw_only=True)
class Organisation:
    """Groups in tiers with their agents, services with their CIs and resolver groups."""

    groups: tuple[tuple[str, str, int, str], ...]  # (group_id, name, tier, kind)
    agents: dict[str, tuple[str, ...]]  # group_id → agent ids
    services: tuple[str, ...]
    service_l2: tuple[str, ...]  # resolver group per service
    service_l3: tuple[str, ...]
    cis_per_service: int

    @property
    def desk(self) -> str:
        return "SD"


def build_organisation(*, tickets: int, months: int) -> Organisation:
    """A mid-size IT department: a service desk, four resolver groups, two specialist teams
    and a vendor; twelve services. CIs are numerous enough that two unrelated incidents
    rarely hit the same CI within 30 days."""
    groups = (
        ("SD", "Service Desk", 1, "service_desk"),
        ("NET", "Network", 2, "resolver"),
        ("APP", "Applications", 2, "resolver"),
        ("WKS", "Workplace", 2, "resolver"),
        ("DBA", "Databases", 2, "resolver"),
        ("INF", "Infrastructure L3", 3, "resolver"),
        ("DEV", "Development L3", 3, "resolver"),
        ("VND", "Vendor support", 3, "vendor"),
    )
    sizes = {"SD": 10, "NET": 5, "APP": 5, "WKS": 5, "DBA": 5, "INF": 3, "DEV": 3, "VND": 2}
    agents = {g: tuple(f"{g.lower()}-{i:02d}" for i in range(n)) for g, n in sizes.items()}
    services = tuple(f"S{i:02d}" for i in range(12))
    l2 = ("NET", "NET", "APP", "APP", "APP", "WKS", "WKS", "WKS", "DBA", "DBA", "APP", "NET")
    l3 = ("INF", "INF", "DEV", "DEV", "VND", "INF", "VND", "INF", "DEV", "DEV", "DEV", "INF")
    monthly = tickets / max(months, 1)
    cis = max(100, int(15 * monthly / len(services)))
    return Organisation(
        groups=groups, agents=agents, services=services, service_l2=l2, service_l3=l3, cis_per_service=cis
    )
