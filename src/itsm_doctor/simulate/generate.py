"""Vectorised generation of one chunk of a simulated patient's records.

Each ticket walks a fixed sequence of optional steps (created, priority corrected, picked up,
waiting on the user, escalated, bounced back, specialist, clock paused, resolved, reopened,
closed). Every step is a numpy array over the chunk's tickets — a mask saying whether it
happens and a time — so a chunk of 50,000 tickets takes well under a second and memory
stays bounded by the chunk (see docs/adr/0002-simulator.md for the queueing model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.simulate.model import REQUEST_SLA_HOURS, SLA_HOURS, Organisation, Scenario

__all__ = ["Chunk", "generate_chunk"]

H = 3600.0
DAY = 86400.0
_HEALTHY_PRIORITY_FACTOR = np.array([0.0, 0.1, 0.3, 1.0, 2.0])  # index = priority 1..4
_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 10, 16, 16, 15, 13, 10, 13, 15, 14, 12, 8, 5, 3, 2, 2, 1, 1], float)
_CHANNELS = np.array(["phone", "email", "portal", "chat"])
_CATEGORIES = np.array(
    [
        "network",
        "network",
        "application",
        "application",
        "application",
        "workplace",
        "workplace",
        "workplace",
        "database",
        "database",
        "application",
        "network",
    ]
)


@dataclass
class Chunk:
    """Canonical rows of one chunk, as Arrow tables (ticket, event, survey_response, link)."""

    tables: dict[str, pa.Table]


def _blank(values: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """``values`` as an object array with None where ``empty`` is true."""
    out = np.asarray(values).astype(object)
    out[empty] = None
    return out


def _lognorm(rng: np.random.Generator, median_h: float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median_h * np.exp(sigma * rng.standard_normal(n)) * H)


class _Events:
    """Accumulates event columns step by step."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in (
                "ticket_id",
                "order",
                "ts",
                "kind",
                "to_status",
                "pending_reason",
                "to_group_id",
                "to_agent_id",
                "from_raw",
                "to_raw",
            )
        }
        self.step = 0

    def add(
        self,
        mask: np.ndarray,
        ids: np.ndarray,
        ts: np.ndarray,
        *,
        kind: str,
        status: Any = None,
        reason: Any = None,
        group: Any = None,
        agent: Any = None,
        from_raw: Any = None,
        to_raw: Any = None,
    ) -> None:
        self.step += 1
        n = int(mask.sum())
        if n == 0:
            return

        def col(v: Any) -> np.ndarray:
            if isinstance(v, np.ndarray):
                picked: np.ndarray = v[mask].astype(object)
                return picked
            return np.full(n, v, dtype=object)

        self.cols["ticket_id"].append(ids[mask])
        self.cols["order"].append(np.full(n, self.step, dtype=np.int32))
        self.cols["ts"].append(ts[mask])
        self.cols["kind"].append(col(kind))
        self.cols["to_status"].append(col(status))
        self.cols["pending_reason"].append(col(reason))
        self.cols["to_group_id"].append(col(group))
        self.cols["to_agent_id"].append(col(agent))
        self.cols["from_raw"].append(col(from_raw))
        self.cols["to_raw"].append(col(to_raw))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.array([], dtype=object) for k, v in self.cols.items()}


def _arrivals(rng: np.random.Generator, sc: Scenario, n: int, growth: float) -> np.ndarray:
    days = round((sc.end_ts - sc.start_ts) / DAY)
    d = np.arange(days)
    weekday = (d + int(np.datetime64(sc.start, "D").astype("datetime64[D]").view("int64") + 3) % 7) % 7
    w = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.15, 0.1)) * (1 + growth * d / days)
    day = rng.choice(days, size=n, p=w / w.sum())
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return np.asarray(sc.start_ts + day * DAY + hour * H + rng.random(n) * H)


def _severity(sc: Scenario, name: str, t0: np.ndarray) -> np.ndarray:
    s = np.full(len(t0), sc.severity(name))
    for t in sc.treatments:
        if t.dysfunction == name:
            since = np.datetime64(t.since, "s").astype("int64")
            s = np.where(t0 >= since, min(t.to, sc.severity(name)), s)
    return s


def generate_chunk(sc: Scenario, org: Organisation, *, chunk: int, first: int, n: int) -> Chunk:
    """Tickets ``first`` … ``first + n - 1`` of the scenario (incidents, requests, problems, changes)."""
    rng = np.random.default_rng([sc.seed, chunk])
    agent_rng = np.random.default_rng([sc.seed, 10_000])  # one desk for the whole patient
    n_desk = len(org.agents["SD"])
    desk_skill = np.clip(agent_rng.random(n_desk) ** 0.5 * 1.2, 0, 0.95)  # how unsure each desk agent is
    growth = 0.1 + 0.7 * sc.severity("backlog-growth")
    t0 = _arrivals(rng, sc, n, growth)
    is_request = rng.random(n) < sc.request_share
    ids = np.array([f"{'REQ' if r else 'INC'}{first + i:08d}" for i, r in enumerate(is_request)], dtype=object)
    sev = {name: _severity(sc, name, t0) for name in sc.dysfunctions}

    def s(name: str) -> np.ndarray:
        return sev.get(name, np.zeros(n))

    n_svc = len(org.services)
    svc = rng.zipf(1.6, n) % n_svc
    ci = np.array(
        [f"CI-{a:02d}-{b:05d}" for a, b in zip(svc, rng.integers(0, org.cis_per_service, n), strict=True)], dtype=object
    )
    inc = ~is_request

    # --- changes, and the incidents they cause --------------------------------------------
    n_chg = max(1, n // 10)
    c_t0 = sc.start_ts + rng.random(n_chg) * (sc.end_ts - sc.start_ts - 3 * DAY)
    c_sev = np.full(n_chg, sc.severity("change-induced-incidents"))
    c_emergency = rng.random(n_chg) < 0.04 + 0.3 * c_sev
    c_failed = rng.random(n_chg) < 0.05 + 0.35 * c_sev
    c_dur = _lognorm(rng, 24, 0.6, n_chg)
    c_end = c_t0 + c_dur
    c_svc = rng.integers(0, n_svc, n_chg)
    c_ci = np.array(
        [f"CI-{a:02d}-{b:05d}" for a, b in zip(c_svc, rng.integers(0, org.cis_per_service, n_chg), strict=True)],
        dtype=object,
    )
    c_ids = np.array([f"CHG{first + i:08d}" for i in range(n_chg)], dtype=object)
    spawn = np.where(c_failed, rng.poisson(0.5 + 4.0 * c_sev), 0)
    caused_by = np.full(n, None, dtype=object)
    candidates = np.flatnonzero(inc)
    total = int(min(spawn.sum(), len(candidates)))
    if total:
        chosen = rng.choice(candidates, size=total, replace=False)
        src = np.repeat(np.arange(n_chg), spawn)[:total]
        t0[chosen] = c_end[src] + rng.random(total) * 2 * DAY
        svc[chosen] = c_svc[src]
        ci[chosen] = c_ci[src]
        caused_by[chosen] = c_ids[src]

    # --- recurring incidents and problem management ------------------------------------
    s_pma = s("problem-management-absent")
    order = np.argsort(t0, kind="stable")
    repeat = inc & (rng.random(n) < 0.04 + 0.4 * s_pma) & (caused_by == None)  # noqa: E711
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    lo = np.searchsorted(t0[order], t0 - 20 * DAY)
    has_prev = repeat & (rank > lo)
    pick = lo + (rng.random(n) * np.maximum(rank - lo, 1)).astype(np.int64)
    prev = order[np.minimum(pick, n - 1)]
    ci = np.where(has_prev, ci[prev], ci)
    svc = np.where(has_prev, svc[prev], svc)
    # a practised problem management links repeats, and known errors, to problem records
    # (realistic: 1–4 % of incidents carry a link, as in the shared ServiceNow log)
    known_rate, repeat_link = (0.015, 0.3) if sc.realistic else (0.10, 0.75)
    # (realistic: without the practice links vanish — 1 − s cubed — rather than thin out)
    fade = (1 - s_pma) ** (3 if sc.realistic else 2)
    known_error = inc & (rng.random(n) < known_rate * fade)
    linked = (has_prev & (rng.random(n) < repeat_link * fade)) | known_error
    problem_id = _blank(np.array([f"PRB-{c}" for c in ci], dtype=object), ~linked)

    # --- priority ---------------------------------------------------------------------------
    impact = rng.choice([1, 2, 3], size=n, p=[0.1, 0.3, 0.6])
    urgency = rng.choice([1, 2, 3], size=n, p=[0.15, 0.35, 0.5])
    p_true = np.clip(impact + urgency - 1, 1, 4)
    if sc.realistic:  # most incidents at one priority, the rest spread around it
        rest = (1 - sc.dominant_priority_share) / 10
        p_true = rng.choice([1, 2, 3, 4], size=n, p=[rest, 3 * rest, sc.dominant_priority_share, 6 * rest])
    inflated = rng.random(n) < 0.6 * s("priority-inflation")
    # a healthy desk also corrects a few priorities, in both directions
    misjudged = ~inflated & (rng.random(n) < 0.03)
    p_req = np.where(inflated, np.maximum(p_true - 1, 1), p_true)
    p_req = np.where(misjudged, np.clip(p_true + rng.choice([-1, 1], n), 1, 4), p_req)
    downgrade = (inflated & (p_req < p_true) & (rng.random(n) < 0.5)) | (misjudged & (p_req != p_true))
    priority = np.where(downgrade, p_true, p_req)
    f_prio = _HEALTHY_PRIORITY_FACTOR[priority] ** (1 - s("priority-not-driving-work"))
    frac_t = (t0 - sc.start_ts) / (sc.end_ts - sc.start_ts)
    backlog = 1 + 40 * s("backlog-growth") * frac_t**2
    neglect = 1 + 6 * s("customer-neglect")

    # --- the walk -----------------------------------------------------------------------------
    ev = _Events()
    ev.add(np.ones(n, bool), ids, t0, kind="created", status="new", group="SD")
    t = t0 + _lognorm(rng, 0.2, 0.8, n) * neglect * (0.3 + 0.7 * f_prio)
    ev.add(
        downgrade,
        ids,
        (t0 + t) / 2,
        kind="priority_change",
        from_raw=np.array([f"P{p}" for p in p_req], object),
        to_raw=np.array([f"P{p}" for p in priority], object),
    )
    a1 = rng.integers(0, n_desk, n)
    # key-person dependency: a service's tickets go to "its" hero, at the desk and beyond
    key = rng.random(n) < 0.85 * s("key-person-dependency")
    a1 = np.where(key, svc % n_desk, a1)
    desk_agent = np.array(org.agents["SD"], dtype=object)[a1]
    ev.add(np.ones(n, bool), ids, t, kind="status_change", status="in_progress", group="SD", agent=desk_agent)
    s_ug = s("ungoverned-process")
    ungoverned = rng.random(n) < 0.45 * s_ug
    backward = ungoverned & (rng.random(n) < 0.5)
    skip_resolve = ungoverned & ~backward
    t = np.where(backward, t + 0.2 * H, t)
    ev.add(backward, ids, t, kind="status_change", status="new")
    t = np.where(backward, t + 0.5 * H, t)
    ev.add(backward, ids, t, kind="status_change", status="in_progress", agent=desk_agent)
    early_wait = rng.random(n) < 0.12
    t = np.where(early_wait, t + _lognorm(rng, 0.2, 0.5, n), t)
    ev.add(early_wait, ids, t, kind="status_change", status="pending", reason="awaiting_user")
    wait_h = _lognorm(rng, 3, 0.8, n)
    paused = np.where(early_wait, wait_h, 0.0)
    t = np.where(early_wait, t + wait_h, t)
    ev.add(early_wait, ids, t, kind="customer_reply", status="in_progress")

    s_pp = s("assignment-ping-pong")
    p_l1 = (
        (0.60 if sc.realistic else 0.76)
        * (1 - s("desk-role-ambiguity") * desk_skill[a1])
        * (1 - 0.55 * s("push-to-front-failure"))
    )
    solved_l1 = is_request | (rng.random(n) < p_l1)
    escalated = ~solved_l1
    quick = escalated & (rng.random(n) < 0.9 * s("push-to-front-failure"))
    t = np.where(escalated, t + np.where(quick, _lognorm(rng, 0.05, 0.3, n), _lognorm(rng, 0.5, 0.7, n)), t)
    l2 = np.array(org.service_l2, dtype=object)[svc]
    ev.add(escalated, ids, t, kind="group_change", status="assigned", group=l2)
    l2_agent = np.array(
        [f"{g.lower()}-{i:02d}" for g, i in zip(l2, np.where(key, 0, rng.integers(0, 5, n)), strict=True)], dtype=object
    )
    t = np.where(escalated, t + _lognorm(rng, 2.0, 0.9, n) * f_prio * backlog * (1 + s("customer-neglect")), t)
    ev.add(escalated, ids, t, kind="status_change", status="in_progress", group=l2, agent=l2_agent)
    pp = escalated & (rng.random(n) < 0.03 + 0.7 * s_pp)
    t = np.where(pp, t + _lognorm(rng, 1.0, 0.5, n), t)
    ev.add(pp, ids, t, kind="group_change", status="assigned", group="SD")
    t = np.where(pp, t + _lognorm(rng, 0.5, 0.5, n), t)
    ev.add(pp, ids, t, kind="group_change", status="assigned", group=l2)
    t = np.where(pp, t + _lognorm(rng, 1.0, 0.6, n), t)
    ev.add(pp, ids, t, kind="status_change", status="in_progress", group=l2, agent=l2_agent)
    l3 = escalated & (rng.random(n) < 0.2)
    l3_group = np.array(org.service_l3, dtype=object)[svc]
    t = np.where(l3, t + _lognorm(rng, 2.0, 0.7, n), t)
    ev.add(l3, ids, t, kind="group_change", status="assigned", group=l3_group)
    t = np.where(l3, t + _lognorm(rng, 4.0, 0.8, n) * f_prio, t)
    l3_agent = np.array(
        [f"{g.lower()}-{i:02d}" for g, i in zip(l3_group, rng.integers(0, 2, n), strict=True)], dtype=object
    )
    ev.add(l3, ids, t, kind="status_change", status="in_progress", group=l3_group, agent=l3_agent)

    # misrouting: a ticket the desk could solve goes to a resolver group, which sends it back
    bounce = solved_l1 & inc & (rng.random(n) < 0.25 * s_pp)
    t = np.where(bounce, t + _lognorm(rng, 0.3, 0.5, n), t)
    ev.add(bounce, ids, t, kind="group_change", status="assigned", group=l2)
    t = np.where(bounce, t + _lognorm(rng, 1.5, 0.6, n), t)
    ev.add(bounce, ids, t, kind="group_change", status="assigned", group="SD")
    t = np.where(bounce, t + _lognorm(rng, 0.5, 0.6, n), t)
    ev.add(bounce, ids, t, kind="status_change", status="in_progress", group="SD", agent=desk_agent)

    # (realistic: resolver groups take most of a working day, as the shared real logs show)
    l2_hours, l3_hours = (10.0, 24.0) if sc.realistic else (3.0, 8.0)
    work = np.where(
        l3,
        _lognorm(rng, l3_hours, 0.8, n),
        np.where(escalated, _lognorm(rng, l2_hours, 0.8, n), _lognorm(rng, 0.4, 0.7, n)),
    )
    work = np.where(is_request, _lognorm(rng, 8, 0.8, n), work * f_prio**0.75) * backlog
    # customer neglect by resolver groups: a picked-up incident is left untouched for hours
    # (drawn only when neglect is switched on, so that other patients' records stay as they were)
    s_cn = s("customer-neglect")
    if np.any(s_cn > 0):
        work = work + np.where(escalated, _lognorm(rng, 100.0, 0.5, n) * s_cn, 0.0)
    t_res = t + work
    # wait-user abuse: on a ticket about to breach, the clock is paused shortly before the deadline
    target = np.where(is_request, REQUEST_SLA_HOURS, np.vectorize(SLA_HOURS.get)(priority)) * H
    # wait-user abuse: work is left past the deadline and the clock paused just before it
    abuse = inc & (rng.random(n) < 0.6 * s("wait-user-abuse"))
    t_res = np.where(abuse, np.maximum(t_res, t0 + (1.0 + 0.5 * rng.random(n)) * target + paused), t_res)
    a_start = np.maximum(t + 0.1 * H, t0 + (0.8 + 0.15 * rng.random(n)) * target)
    a_end = t_res - 0.3 * H
    abuse &= a_end > a_start + 0.2 * H
    ev.add(abuse, ids, a_start, kind="status_change", status="pending", reason="awaiting_user")
    ev.add(abuse, ids, a_end, kind="status_change", status="in_progress")
    paused = np.where(abuse, paused + (a_end - a_start), paused)

    resolves = ~skip_resolve
    ev.add(resolves, ids, t_res, kind="resolve", status="resolved")
    conflict = s("desk-role-conflict")
    base_reopen = 0.01 if sc.realistic else 0.02
    reopen = resolves & (rng.random(n) < base_reopen + 0.35 * s("premature-resolution") + 0.08 * conflict)
    t_reopen = t_res + _lognorm(rng, 10, 0.8, n)
    ev.add(reopen, ids, t_reopen, kind="reopen", status="in_progress")
    t_res2 = t_reopen + _lognorm(rng, 3, 0.7, n)
    ev.add(reopen, ids, t_res2, kind="resolve", status="resolved")
    t_close = np.where(skip_resolve, t_res, np.where(reopen, t_res2, t_res) + _lognorm(rng, 48, 0.3, n))
    ev.add(np.ones(n, bool), ids, t_close, kind="close", status="closed")

    cols = ev.arrays()
    keep = cols["ts"] <= sc.end_ts  # the export is taken at the end of the period
    for k in cols:
        cols[k] = cols[k][keep]
    o = np.lexsort((cols["order"], cols["ticket_id"].astype(str)))
    for k in cols:
        cols[k] = cols[k][o]

    ended = sc.end_ts
    resolved_at = np.where(resolves & (t_res <= ended), t_res, np.nan)
    closed_at = np.where(t_close <= ended, t_close, np.nan)
    last_status = np.where(~np.isnan(closed_at), "closed", np.where(~np.isnan(resolved_at), "resolved", "in_progress"))
    sla_met = _blank((t_res - t0 - paused) <= target, np.isnan(resolved_at))
    rejected = resolves & (rng.random(n) < 0.02 + 0.3 * conflict)
    resolution_code = _blank(np.where(rejected, "rejected", "solved"), np.isnan(resolved_at))
    last_group = np.where(l3, l3_group, np.where(escalated, l2, "SD")).astype(object)
    last_agent = np.where(l3, l3_agent, np.where(escalated, l2_agent, desk_agent)).astype(object)
    drop_fields = ungoverned & (rng.random(n) < 0.5)
    category = _blank(_CATEGORIES[svc], drop_fields)
    service = _blank(np.array(org.services, dtype=object)[svc], drop_fields)
    ci_out = _blank(ci, drop_fields)

    def ts(x: np.ndarray) -> pa.Array:
        # whole seconds, as ticketing tools record them
        micros = np.floor(np.where(np.isnan(x), 0.0, x)).astype("int64") * 1_000_000
        return pa.array(micros, type=pa.int64(), mask=np.isnan(x)).cast(pa.timestamp("us", tz="UTC"))

    ticket = {
        "ticket_id": ids,
        "source": np.full(n, "simulator", object),
        "source_key": ids,
        "ticket_type": np.where(is_request, "request", "incident").astype(object),
        "title": np.array([f"{c} issue" for c in _CATEGORIES[svc]], object),
        "category": category,
        "service_id": service,
        "ci_id": ci_out,
        "channel": _CHANNELS[rng.integers(0, 4, n)].astype(object),
        "priority": priority.astype(np.int32),
        "priority_raw": np.array([f"P{p}" for p in priority], object),
        "impact": impact.astype(np.int32),
        "urgency": urgency.astype(np.int32),
        "status": last_status.astype(object),
        "assigned_group_id": last_group,
        "assignee_id": last_agent,
        "resolution_code": resolution_code,
        "reopen_count": np.where(reopen & (t_reopen <= ended), 1, 0).astype(np.int32),
        "sla_met": sla_met,
        "problem_id": problem_id,
        "caused_by_change_id": caused_by,
    }
    tickets = pa.table({k: v for k, v in ticket.items()})
    tickets = tickets.append_column("opened_at", ts(t0)).append_column("resolved_at", ts(resolved_at))
    tickets = tickets.append_column("closed_at", ts(closed_at))

    # problems (one per CI whose repeats were linked) and changes, as tickets of their own types
    linked_ids = problem_id[linked].astype(str)
    prob_ids, first_idx = np.unique(linked_ids, return_index=True)
    lidx = np.flatnonzero(linked)[first_idx]
    p_t0 = t0[lidx] if len(lidx) else np.array([])
    p_done = rng.random(len(lidx)) < 0.5
    p_res = np.where(p_done, p_t0 + _lognorm(rng, 24 * 20, 0.8, len(lidx)), np.nan)
    p_res = np.where(p_res <= ended, p_res, np.nan)
    problems = (
        pa.table(
            {
                "ticket_id": np.asarray(prob_ids, dtype=object),
                "source": np.full(len(lidx), "simulator", object),
                "ticket_type": np.full(len(lidx), "problem", object),
                "title": np.full(len(lidx), "recurring incidents", object),
                "ci_id": ci[lidx].astype(object) if len(lidx) else np.array([], object),
                "status": np.where(np.isnan(p_res), "in_progress", "resolved").astype(object),
            }
        )
        .append_column("opened_at", ts(p_t0))
        .append_column("resolved_at", ts(p_res))
    )
    changes = (
        pa.table(
            {
                "ticket_id": c_ids,
                "source": np.full(n_chg, "simulator", object),
                "ticket_type": np.full(n_chg, "change", object),
                "title": np.full(n_chg, "change", object),
                "ci_id": c_ci,
                "service_id": np.array(org.services, dtype=object)[c_svc],
                "status": np.full(n_chg, "closed", object),
                "change_type": np.where(c_emergency, "emergency", "normal").astype(object),
                "change_outcome": np.where(c_failed, "failed", "successful").astype(object),
            }
        )
        .append_column("opened_at", ts(c_t0))
        .append_column("closed_at", ts(np.where(c_end <= ended, c_end, np.nan)))
    )

    ticket_all = pa.concat_tables([_conform("ticket", x) for x in (tickets, problems, changes)])
    event = pa.table(
        {
            "ticket_id": cols["ticket_id"].astype(object),
            "seq": pa.array(np.zeros(len(cols["ts"]), np.int32)),
            "ts": ts(cols["ts"].astype(float)),
            "kind": cols["kind"],
            "to_status": cols["to_status"],
            "pending_reason": cols["pending_reason"],
            "to_group_id": cols["to_group_id"],
            "to_agent_id": cols["to_agent_id"],
            "from_raw": cols["from_raw"],
            "to_raw": cols["to_raw"],
            "origin": np.full(len(cols["ts"]), "history", object),
            "source": np.full(len(cols["ts"]), "simulator", object),
        }
    )
    # seq: position of the event within its ticket (events are sorted by ticket, then step)
    tid = cols["ticket_id"].astype(str)
    starts = np.r_[True, tid[1:] != tid[:-1]] if len(tid) else np.array([], bool)
    idx = np.arange(len(tid))
    seq = idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1
    event = event.set_column(1, "seq", pa.array(seq.astype(np.int32)))

    answered = inc & ~np.isnan(resolved_at) & (rng.random(n) < 0.3 * (1 - 0.8 * s("customer-neglect")))
    score = np.clip(
        0.88 - 0.3 * s("customer-neglect") - 0.25 * conflict - 0.15 * reopen + 0.1 * rng.standard_normal(n), 0, 1
    )
    surveys = pa.table(
        {
            "response_id": np.array([f"SRV-{x}" for x in ids[answered]], object),
            "ticket_id": ids[answered],
            "score": np.round(1 + 4 * score[answered]),
            "scale_min": np.full(int(answered.sum()), 1.0),
            "scale_max": np.full(int(answered.sum()), 5.0),
            "score_norm": score[answered],
            "source": np.full(int(answered.sum()), "simulator", object),
        }
    ).append_column("answered_at", ts(np.minimum(resolved_at[answered] + 6 * H, ended)))
    return Chunk(
        tables={
            "ticket": ticket_all,
            "event": _conform("event", event),
            "survey_response": _conform("survey_response", surveys),
        }
    )


def _conform(table: str, data: pa.Table) -> pa.Table:
    """The canonical schema's columns in order, missing ones null."""
    schema = SCHEMAS[table]
    cols = []
    for f in schema:
        if f.name in data.column_names:
            cols.append(data[f.name].cast(f.type))
        else:
            cols.append(pa.nulls(data.num_rows, type=f.type))
    return pa.Table.from_arrays(cols, schema=schema)
