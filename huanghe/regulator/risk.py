"""Security risk monitoring (风险监测、预警、溯源及处置): security events raise risk alerts with a severity, an
owner and a handling workflow — acknowledge (the owner takes it), trace (the audit records behind it), resolve
with a note. Every step of the workflow is itself audited.

Detection (:func:`detect`, run by the risk loop; thresholds in :class:`RiskThresholds`):

* ``auth_failures`` (high): ≥ ``auth_failures`` unauthenticated requests from one source within ``window_s``;
* ``refused_requests`` (medium): ≥ ``refusals`` refused requests by one principal within ``window_s``;
* ``residency_refusal`` (high): any refused copy of important/core data (audit actions
  :data:`RESIDENCY_ACTIONS`), one alert per dataset;
* ``data_class_lowered`` (high from core, medium from important): a dataset's class was lowered (audit action
  :data:`CLASS_LOWERED`: the tenant declassified it, which lets it be copied where it could not go before), one
  alert per dataset;
* ``egress_anomaly`` (high): a tenant moved more than ``egress_bytes`` between centers in the last hour, and
  more than ``egress_factor`` × its hourly mean of the past week;
* ``audit_chain_break`` (critical): the audit chain does not verify (checked every ``chain_every_s``).

One active alert per (kind, subject): new events refresh it. Times are epoch seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.audit.models import AuditRow, SecurityEventRow
from huanghe.audit.security_events import record_event
from huanghe.core.errors import conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.models import TransferRow
from huanghe.data.service import CLASS_LOWERED
from huanghe.regulator.models import RiskAlertRow
from huanghe.store.crud import get_row, page_of

RESIDENCY_ACTIONS = ("data.residency.refuse", "rule.refused", "transfer.refused")
ACTIVE = ("open", "acknowledged")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class RiskThresholds:
    """When events become an alert (see the module doc); bytes in bytes, times in seconds."""

    window_s: float = 300.0
    auth_failures: int = 20
    refusals: int = 30
    egress_bytes: int = 50 * 10**9
    egress_factor: float = 5.0
    chain_every_s: float = 600.0


class RiskAlertPublic(BaseModel):
    id: int
    kind: str
    subject: str
    severity: str
    state: str
    message: str
    owner: str
    events: int
    first_event_s: float
    last_event_s: float
    opened_s: float
    updated_s: float
    acknowledged_s: float | None
    resolved_s: float | None
    resolved_by: str
    note: str
    trace: dict[str, object]


class TraceRecord(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str


class RiskTrace(BaseModel):
    """The evidence of an alert: its security events and the audit records of the same actor or subject."""

    alert: RiskAlertPublic
    events: list[dict[str, object]]
    audit: list[TraceRecord]


class Resolve(BaseModel):
    note: str = Field(min_length=1, max_length=5000, description="what was found and done (处置说明)")


class Assign(BaseModel):
    owner: str = Field(min_length=1, max_length=200)


def _iso(t: float) -> str:
    """The audit chain's time format (``...Z``, microseconds), so times compare as text."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _public(r: RiskAlertRow) -> RiskAlertPublic:
    return RiskAlertPublic(
        id=r.id, kind=r.kind, subject=r.subject, severity=r.severity, state=r.state, message=r.message,
        owner=r.owner, events=r.events, first_event_s=r.first_event_s, last_event_s=r.last_event_s,
        opened_s=r.opened_s, updated_s=r.updated_s, acknowledged_s=r.acknowledged_s, resolved_s=r.resolved_s,
        resolved_by=r.resolved_by, note=r.note, trace=dict(r.trace or {}),
    )  # fmt: skip


def raise_alert(
    session: Session, kind: str, subject: str, severity: str, message: str, *, events: int, first_s: float,
    last_s: float, now: float, trace: dict[str, object] | None = None,
) -> tuple[RiskAlertRow, bool]:  # fmt: skip
    """Open an alert or refresh the active one of (kind, subject); (row, opened?). Not committed."""
    row = session.scalar(select(RiskAlertRow).where(
        RiskAlertRow.kind == kind, RiskAlertRow.subject == subject, RiskAlertRow.state.in_(ACTIVE)))  # fmt: skip
    if row is not None:
        if last_s > row.last_event_s:
            row.events += events
            row.last_event_s, row.updated_s, row.message = last_s, now, message
        return row, False
    row = RiskAlertRow(
        kind=kind, subject=subject[:500], severity=severity, state="open", message=message, owner="", events=events,
        first_event_s=first_s, last_event_s=last_s, opened_s=now, updated_s=now, resolved_by="", note="",
        trace=trace or {},
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, "system:risk", "risk.open", str(row.id),
                 {"kind": kind, "subject": subject, "severity": severity}, now=now)  # fmt: skip
    return row, True


def _request_alerts(session: Session, now: float, th: RiskThresholds) -> int:
    since = now - th.window_s
    opened = 0
    specs = (("auth_failure", SecurityEventRow.source, th.auth_failures, "auth_failures", "high",
              "{n} unauthenticated requests from {s} in {w:.0f} s (反复认证失败)"),
             ("refused", SecurityEventRow.actor, th.refusals, "refused_requests", "medium",
              "{n} refused requests by {s} in {w:.0f} s (多次越权请求)"))  # fmt: skip
    for kind, column, limit, alert_kind, severity, text in specs:
        rows = session.execute(
            select(column, func.sum(SecurityEventRow.count), func.min(SecurityEventRow.t_s), func.max(SecurityEventRow.t_s))
            .where(SecurityEventRow.kind == kind, SecurityEventRow.t_s >= since - 60.0)
            .group_by(column)
            .having(func.sum(SecurityEventRow.count) >= limit)
        ).all()  # fmt: skip
        for subject, n, first, last in rows:
            subject = str(subject) or "anonymous"
            _, new = raise_alert(session, alert_kind, subject, severity, text.format(n=int(n), s=subject, w=th.window_s),
                                 events=int(n), first_s=float(first), last_s=float(last), now=now)  # fmt: skip
            opened += new
    return opened


def _audit_alerts(session: Session, now: float, since_seq: int) -> tuple[int, int]:
    """Alerts for refused copies of protected data and lowered data classes recorded after audit seq
    ``since_seq``; (opened, last seq looked at)."""
    opened, last = 0, since_seq
    actions = (*RESIDENCY_ACTIONS, CLASS_LOWERED)
    for row in session.scalars(select(AuditRow).where(AuditRow.seq > since_seq, AuditRow.action.in_(actions))
                               .order_by(AuditRow.seq)):  # fmt: skip
        last = max(last, row.seq)
        t = datetime.fromisoformat(row.at.replace("Z", "+00:00")).timestamp()
        if row.action == CLASS_LOWERED:
            try:
                loaded = json.loads(row.payload)
            except ValueError:
                loaded = None
            payload = loaded if isinstance(loaded, dict) else {}
            was, now_class = str(payload.get("from", "?")), str(payload.get("to", "?"))
            kind, severity = "data_class_lowered", "high" if was == "core" else "medium"
            message = (f"the data class of {row.subject} was lowered from {was} to {now_class} by {row.actor} "
                       f"(数据级别被降低：{was} → {now_class})")  # fmt: skip
            tenant = payload.get("tenant")
            detail = {"audit_seq": row.seq, "from": was, "to": now_class}
        else:
            kind, severity, tenant = "residency_refusal", "high", None
            message = f"a copy of protected data {row.subject} was refused ({row.action} by {row.actor}) (重要数据越界复制被拒绝)"
            detail = {"audit_seq": row.seq, "action": row.action}
        record_event(session, kind, subject=row.subject, actor=row.actor, now=t,
                     tenant=str(tenant) if tenant else None, detail=detail)  # fmt: skip
        _, new = raise_alert(session, kind, row.subject, severity, message, events=1, first_s=t, last_s=t, now=now,
                             trace={"audit_seqs": [row.seq]})  # fmt: skip
        opened += new
    return opened, last


def _egress_alerts(session: Session, now: float, th: RiskThresholds) -> int:
    hour = now - 3600.0
    week = now - 7 * 86400.0
    rows = session.execute(
        select(TransferRow.tenant_id, func.sum(TransferRow.bytes))
        .where(TransferRow.state == "done", TransferRow.finished_s >= hour)
        .group_by(TransferRow.tenant_id)
    ).all()
    opened = 0
    for tenant, moved in rows:
        moved = int(moved or 0)
        past = int(session.scalar(select(func.sum(TransferRow.bytes)).where(
            TransferRow.tenant_id == tenant, TransferRow.state == "done", TransferRow.finished_s >= week,
            TransferRow.finished_s < hour)) or 0)  # fmt: skip
        mean_hourly = past / (7 * 24 - 1)
        if moved > th.egress_bytes and moved > th.egress_factor * mean_hourly:
            msg = (f"tenant {tenant} moved {moved / 1e9:.1f} GB between centers in the last hour, "
                   f"{moved / max(mean_hourly, 1):.0f}× its hourly mean of the past week (数据外流异常)")  # fmt: skip
            record_event(session, "egress_anomaly", subject=str(tenant), tenant=str(tenant), now=now,
                         detail={"bytes": moved, "mean_hourly_bytes": mean_hourly})  # fmt: skip
            _, new = raise_alert(session, "egress_anomaly", str(tenant), "high", msg, events=1, first_s=now, last_s=now,
                                 now=now, trace={"bytes": moved})  # fmt: skip
            opened += new
    return opened


def check_chain(session: Session, now: float) -> bool:
    """Verify the audit chain; a break raises a critical alert. True when the chain holds."""
    result = audit.verify(session)
    if result.ok:
        return True
    where = f"seq {result.first_bad}" if result.first_bad is not None else "the chain"
    record_event(session, "audit_chain_break", subject=where, now=now, detail={"reason": str(result.reason)})
    raise_alert(session, "audit_chain_break", where, "critical",
                f"the audit chain does not verify at {where}: {result.reason} (审计链校验失败)",
                events=1, first_s=now, last_s=now, now=now)  # fmt: skip
    return False


def detect(session: Session, now: float, th: RiskThresholds | None = None, *, since_seq: int = 0,
           chain: bool = False) -> tuple[int, int]:  # fmt: skip
    """One detection pass (committed); (alerts opened, the last audit seq looked at for residency)."""
    th = th or RiskThresholds()
    audit.catch_up(session)  # the residency alerts read the chain: link what is pending first
    opened = _request_alerts(session, now, th)
    n, last = _audit_alerts(session, now, since_seq)
    opened += n + _egress_alerts(session, now, th)
    if chain:
        opened += 0 if check_chain(session, now) else 1
    session.commit()
    return opened, last


# --- handling --------------------------------------------------------------------------------------------
def list_alerts(session: Session, *, state: str | None = None, kind: str | None = None,
                limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0) -> Page[RiskAlertPublic]:  # fmt: skip
    q = select(RiskAlertRow)
    if state is not None:
        q = q.where(RiskAlertRow.state == state)
    if kind is not None:
        q = q.where(RiskAlertRow.kind == kind)
    return page_of(session, q, (RiskAlertRow.opened_s.desc(), RiskAlertRow.id.desc()), limit, offset, _public)


def _row(session: Session, alert_id: int) -> RiskAlertRow:
    row = get_row(session, RiskAlertRow, alert_id, "risk alert")
    return row


def get_alert(session: Session, alert_id: int) -> RiskAlertPublic:
    return _public(_row(session, alert_id))


def acknowledge(session: Session, alert_id: int, *, actor: str, now: float) -> RiskAlertPublic:
    """The actor takes the alert (owner, unless one was assigned); refused (409) once resolved."""
    row = _row(session, alert_id)
    if row.state == "resolved":
        raise conflict("state", f"risk alert {alert_id} is resolved (已处置)")
    if row.state == "open":
        row.state, row.acknowledged_s, row.updated_s = "acknowledged", now, now
        row.owner = row.owner or actor
        audit.record(session, actor, "risk.ack", str(alert_id), {"owner": row.owner}, now=now)
    session.commit()
    return _public(row)


def assign(session: Session, alert_id: int, body: Assign, *, actor: str, now: float) -> RiskAlertPublic:
    row = _row(session, alert_id)
    if row.state == "resolved":
        raise conflict("state", f"risk alert {alert_id} is resolved (已处置)")
    row.owner, row.updated_s = body.owner, now
    audit.record(session, actor, "risk.assign", str(alert_id), {"owner": body.owner}, now=now)
    session.commit()
    return _public(row)


def resolve(session: Session, alert_id: int, body: Resolve, *, actor: str, now: float) -> RiskAlertPublic:
    """Close the alert with a note (required); resolving twice is refused (409)."""
    row = _row(session, alert_id)
    if row.state == "resolved":
        raise conflict("state", f"risk alert {alert_id} is already resolved (已处置)")
    if not body.note.strip():
        raise invalid("note", "a note is required (请填写处置说明)")
    row.state, row.resolved_s, row.updated_s, row.resolved_by, row.note = (
        "resolved",
        now,
        now,
        actor,
        body.note,
    )
    row.owner = row.owner or actor
    audit.record(session, actor, "risk.resolve", str(alert_id), {"note": body.note}, now=now)
    session.commit()
    return _public(row)


def trace(session: Session, alert_id: int, *, limit: int = 200) -> RiskTrace:
    """The alert's evidence (溯源): its security events in its time span, and the audit records of its
    subject or actor in that span (and the seqs it kept when raised)."""
    row = _row(session, alert_id)
    audit.catch_up(session)
    lo, hi = row.first_event_s - 60.0, row.last_event_s + 60.0
    kinds = {"auth_failures": "auth_failure", "refused_requests": "refused"}.get(row.kind, row.kind)
    ev_q = select(SecurityEventRow).where(SecurityEventRow.kind == kinds, SecurityEventRow.t_s >= lo,
                                          SecurityEventRow.t_s <= hi)  # fmt: skip
    if row.kind == "auth_failures":
        ev_q = ev_q.where(SecurityEventRow.source == row.subject)
    elif row.kind == "refused_requests":
        ev_q = ev_q.where(SecurityEventRow.actor == row.subject)
    else:
        ev_q = ev_q.where(SecurityEventRow.subject == row.subject)
    events = [
        {
            "t_s": e.t_s,
            "kind": e.kind,
            "source": e.source,
            "actor": e.actor,
            "subject": e.subject,
            "count": e.count,
            "detail": e.detail,
        }
        for e in session.scalars(ev_q.order_by(SecurityEventRow.t_s).limit(limit))
    ]
    seqs = [int(x) for x in list((row.trace or {}).get("audit_seqs", []) or [])]
    in_window = (
        (AuditRow.at >= _iso(lo))
        & (AuditRow.at <= _iso(hi))
        & ((AuditRow.actor == row.subject) | (AuditRow.subject == row.subject))
    )
    au_q = select(AuditRow).where(in_window | AuditRow.seq.in_(seqs) if seqs else in_window)
    records = [TraceRecord(seq=a.seq, at=a.at, actor=a.actor, action=a.action, subject=a.subject)
               for a in session.scalars(au_q.order_by(AuditRow.seq).limit(limit))]  # fmt: skip
    return RiskTrace(alert=_public(row), events=events, audit=records)
