"""Alert use cases: evaluate the rules (:mod:`huanghe.observatory.alert_rules`) on stored telemetry and keep the
alerts' life cycle: ``open`` → ``acknowledged`` → ``resolved``.

* One active (open or acknowledged) alert per ``(rule, subject)``: a condition that keeps firing refreshes
  it (value, message, ``updated``) instead of opening another.
* An active alert whose subject was evaluated with fresh data and no longer fires is resolved by the system
  (``resolved_by = "auto"``); ``resolve`` by a person sets ``resolved_by = "user"``. If the condition still
  holds at the next evaluation, a new alert opens.
* ``acknowledge`` of a resolved alert is refused (409); acknowledging twice or resolving twice is a no-op.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.core.errors import NotFoundError, conflict, invalid
from huanghe.core.paging import Page
from huanghe.network.topology_store import export_topology
from huanghe.observatory import alert_rules as rules
from huanghe.store.crud import filtered, page_of
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import AlertRow

ACTIVE = ("open", "acknowledged")


class AlertPublic(BaseModel):
    """An alert; ``value`` and ``threshold`` in the unit of the rule (PUE ratio, share, ms)."""

    id: int
    rule: str
    subject: str
    center: str | None
    state: str
    severity: str
    message: str
    value: float
    threshold: float
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str


class EvaluationSummary(BaseModel):
    opened: int
    refreshed: int
    resolved: int
    evaluated: int


def _public(row: AlertRow) -> AlertPublic:
    ms = telemetry.from_ms
    return AlertPublic(
        id=row.id, rule=row.rule, subject=row.subject, center=row.center_id, state=row.state,
        severity=row.severity, message=row.message, value=row.value, threshold=row.threshold,
        opened_at=ms(row.opened_ms), updated_at=ms(row.updated_ms),
        acknowledged_at=ms(row.acknowledged_ms) if row.acknowledged_ms is not None else None,
        resolved_at=ms(row.resolved_ms) if row.resolved_ms is not None else None, resolved_by=row.resolved_by,
    )  # fmt: skip


def apply_conditions(
    session: Session, firing: list[rules.Condition], evaluated: set[tuple[str, str]], now_ms: int
) -> EvaluationSummary:
    """Store the outcome of one evaluation (dedup, refresh, auto-resolve) and commit."""
    active = {
        (r.rule, r.subject): r for r in session.scalars(select(AlertRow).where(AlertRow.state.in_(ACTIVE)))
    }
    plan = rules.reconcile(active.keys(), firing, evaluated)
    for c in plan.to_open:
        session.add(
            AlertRow(
                rule=c.rule,
                subject=c.subject,
                center_id=c.center,
                state="open",
                severity=c.severity,
                message=c.message,
                value=c.value,
                threshold=c.threshold,
                opened_ms=now_ms,
                updated_ms=now_ms,
                resolved_by="",
            )
        )
    for c in plan.to_refresh:
        row = active[(c.rule, c.subject)]
        row.value, row.threshold, row.message, row.updated_ms = c.value, c.threshold, c.message, now_ms
    for key in plan.to_resolve:
        row = active[key]
        row.state, row.resolved_ms, row.updated_ms, row.resolved_by = "resolved", now_ms, now_ms, "auto"
    session.commit()
    return EvaluationSummary(
        opened=len(plan.to_open), refreshed=len(plan.to_refresh), resolved=len(plan.to_resolve),
        evaluated=len(evaluated),
    )  # fmt: skip


def evaluate(
    session: Session, now_ms: int, thresholds: rules.AlertThresholds | None = None
) -> EvaluationSummary:
    """Evaluate every rule on the stored telemetry at ``now_ms`` and store the result."""
    th = thresholds or rules.AlertThresholds()
    try:
        context = rules.alert_context(export_topology(session))
    except NotFoundError:  # no network stored yet: nothing to evaluate
        return EvaluationSummary(opened=0, refreshed=0, resolved=0, evaluated=0)
    latest = telemetry.latest_values(session, now_ms, th.freshness_s)
    baseline = telemetry.weighted_means(session, "pue", now_ms - int(th.pue_window_s * 1000), now_ms + 1)
    firing, evaluated = rules.evaluate(latest, baseline, context, th)
    return apply_conditions(session, firing, evaluated, now_ms)


def list_alerts(
    session: Session,
    state: str | None = None,
    *,
    rule: str | None = None,
    subject: str | None = None,
    center: str | None = None,
    centers: frozenset[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[AlertPublic]:
    """Alerts, newest first; ``state`` (open, acknowledged, resolved), ``rule``, ``center`` filter exactly,
    ``subject`` by the text it contains (case-insensitive). ``centers``: only alerts about one of these centers (an operator's
    own; None = all)."""
    if state is not None and state not in rules.STATES:
        raise invalid("query.state", f"must be one of {', '.join(rules.STATES)}, not {state!r}")
    if rule is not None and rule not in rules.RULES:
        raise invalid("query.rule", f"must be one of {', '.join(rules.RULES)}, not {rule!r}")
    query = filtered(
        select(AlertRow), {AlertRow.state: state, AlertRow.rule: rule, AlertRow.center_id: center}
    )
    if subject:
        query = query.where(func.lower(AlertRow.subject).contains(subject.lower(), autoescape=True))
    if centers is not None:
        query = query.where(AlertRow.center_id.in_(sorted(centers)))
    return page_of(session, query, (AlertRow.opened_ms.desc(), AlertRow.id.desc()), limit, offset, _public)


def _get(session: Session, alert_id: int, centers: frozenset[str] | None = None) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None or (centers is not None and row.center_id not in centers):
        raise NotFoundError("alert", alert_id)
    return row


def get_alert(session: Session, alert_id: int, *, centers: frozenset[str] | None = None) -> AlertPublic:
    """One alert; with ``centers`` (an operator's own) another center's alert is not found (404)."""
    return _public(_get(session, alert_id, centers))


def center_of_alert(session: Session, alert_id: int) -> str | None:
    """The center alert ``alert_id`` is about (None: not about one center); :class:`NotFoundError` when there
    is no such alert."""
    return _get(session, alert_id).center_id


def acknowledge(session: Session, alert_id: int, now_ms: int) -> AlertPublic:
    row = _get(session, alert_id)
    if row.state == "resolved":
        raise conflict("", f"alert {alert_id} is already resolved")
    if row.state == "open":
        row.state, row.acknowledged_ms, row.updated_ms = "acknowledged", now_ms, now_ms
        session.commit()
    return _public(row)


def resolve(session: Session, alert_id: int, now_ms: int) -> AlertPublic:
    row = _get(session, alert_id)
    if row.state != "resolved":
        row.state, row.resolved_ms, row.updated_ms, row.resolved_by = "resolved", now_ms, now_ms, "user"
        session.commit()
    return _public(row)


def count_by_state(session: Session) -> dict[str, int]:
    counts = dict(session.execute(select(AlertRow.state, func.count()).group_by(AlertRow.state)).all())
    return {s: int(counts.get(s, 0)) for s in rules.STATES}
