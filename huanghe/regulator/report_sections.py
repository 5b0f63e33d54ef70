"""The annual report's sections read from the database for ONE calendar year (UTC): voucher programmes
(:func:`huanghe.billing.programme_report.overview`: grants of the year net of returns, redemptions booked in
it; industries = the `算力+` classification of :mod:`huanghe.regulator.industries`), security risk (risk
alerts opened in the year, security events of the year) and compute empowerment
(:mod:`huanghe.regulator.report_empowerment`).
The figures go to the pure renderer :mod:`huanghe.observatory.report_sections`.

Risk: alerts count by kind × severity and by their state now; the median hours from opening to
acknowledgement (``acknowledged_s − opened_s``) and to resolution (``resolved_s − opened_s``) over the
year's alerts that reached that step; security events are summed (``count``: request events are aggregated
per minute) by kind and month.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.audit.models import SecurityEventRow
from huanghe.billing import programme_report
from huanghe.observatory import report_sections as rs
from huanghe.regulator.models import RiskAlertRow
from huanghe.regulator.report_empowerment import by_industry, empowerment_figures


def year_bounds(year: int) -> tuple[float, float]:
    """[1 January, next 1 January) of ``year`` in epoch seconds, UTC."""
    return datetime(year, 1, 1, tzinfo=UTC).timestamp(), datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()


def _month(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m")


def voucher_figures(session: Session, year: int) -> rs.VoucherFigures:
    """All programmes' fund use in ``year``."""
    ov = programme_report.overview(session, year=year)

    def groups(rows: list[programme_report.Breakdown]) -> list[rs.VoucherGroup]:
        return [
            rs.VoucherGroup(key=b.key, name_zh=b.name_zh, name_en=b.name_en, enterprises=b.enterprises,
                            granted_cny=float(b.granted_cny), redeemed_cny=float(b.redeemed_cny),
                            compute_bought_cny=float(b.compute_bought_cny))
            for b in rows
        ]  # fmt: skip

    return rs.VoucherFigures(
        programmes=[
            rs.ProgrammeFigures(id=p.id, name_zh=p.name_zh, name_en=p.name_en, fund_cny=float(p.fund_cny),
                                granted_cny=float(p.granted_cny), redeemed_cny=float(p.redeemed_cny),
                                enterprises=p.enterprises_served)
            for p in ov.programmes
        ],
        granted_cny=float(ov.granted_cny), redeemed_cny=float(ov.redeemed_cny),
        enterprises=ov.enterprises_served, by_industry=by_industry(groups(ov.by_industry)),
        by_provider_city=groups(ov.by_provider_city),
    )  # fmt: skip


def _median_h(values: list[float]) -> float | None:
    return round(statistics.median(values) / 3600.0, 3) if values else None


def risk_figures(session: Session, year: int) -> rs.RiskFigures:
    """Risk alerts opened in ``year`` and security events of ``year``."""
    lo, hi = year_bounds(year)
    alerts = list(
        session.scalars(select(RiskAlertRow).where(RiskAlertRow.opened_s >= lo, RiskAlertRow.opened_s < hi))
    )
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(rs.SEVERITIES, 0))
    by_state: dict[str, int] = dict.fromkeys(rs.STATES, 0)
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    alerts_month: dict[str, int] = dict.fromkeys(months, 0)
    for a in alerts:
        by_kind[a.kind][a.severity] = by_kind[a.kind].get(a.severity, 0) + 1
        by_state[a.state] = by_state.get(a.state, 0) + 1
        alerts_month[_month(a.opened_s)] += 1
    events_by_kind: dict[str, int] = {}
    events_month: dict[str, int] = dict.fromkeys(months, 0)
    rows = session.execute(
        select(SecurityEventRow.kind, SecurityEventRow.t_s, func.coalesce(SecurityEventRow.count, 1))
        .where(SecurityEventRow.t_s >= lo, SecurityEventRow.t_s < hi)
    ).all()  # fmt: skip
    for kind, t_s, count in rows:
        events_by_kind[kind] = events_by_kind.get(kind, 0) + int(count)
        events_month[_month(float(t_s))] += int(count)
    return rs.RiskFigures(
        by_kind=dict(by_kind), by_state=by_state, events_by_kind=events_by_kind,
        ack_median_h=_median_h([a.acknowledged_s - a.opened_s for a in alerts if a.acknowledged_s is not None]),
        resolve_median_h=_median_h([a.resolved_s - a.opened_s for a in alerts if a.resolved_s is not None]),
        months=[(m, alerts_month[m], events_month[m]) for m in months],
    )  # fmt: skip


def annual_sections(session: Session, year: int) -> rs.AnnualSections:
    """The three sections' figures of ``year`` from the database."""
    return rs.AnnualSections(
        year=year,
        database=True,
        empowerment=empowerment_figures(session, year),
        vouchers=voucher_figures(session, year),
        risk=risk_figures(session, year),
    )


def read_sections(db: str, year: int) -> rs.AnnualSections:
    """The sections of ``year`` from the database at URL ``db`` (the CLI's ``--db``: migrated first; errors
    become messages and exit 1, :func:`huanghe.cli.db_access.db_session`)."""
    from huanghe.cli.db_access import db_session

    with db_session(db) as session:
        return annual_sections(session, year)
