"""The annual report's sections from the platform's records: compute empowerment (算力赋能评价), voucher
programmes (算力券项目) and security risk monitoring (安全风险监测).

Pure: the figures arrive as plain dataclasses (:class:`AnnualSections`, filled by
:func:`huanghe.regulator.report_sections.annual_sections` from the database for ONE calendar year, UTC);
this module turns them into template context with matplotlib charts (:mod:`huanghe.observatory.charts`).
Each section starts on a new page with its heading, its figures, at least one chart and a table; a year with
no records says so (暂无数据 / no data), and a report rendered without a database says that instead.
Money in CNY, compute in node-hours, GPU-hours and peak PFLOPS-hours, times in hours.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from huanghe.observatory import charts

SEVERITIES = ("low", "medium", "high", "critical")
ALERT_KINDS = (
    "auth_failures",
    "refused_requests",
    "residency_refusal",
    "data_class_lowered",
    "egress_anomaly",
    "audit_chain_break",
)
STATES = ("open", "acknowledged", "resolved")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "empowerment": "算力赋能评价",
        "vouchers": "算力券项目",
        "risk": "安全风险监测",
        "no_data": "暂无数据：数据库中没有 {year} 年的{what}记录。",
        "no_db": "暂无数据：本报告未读取平台数据库（请使用 --db 或 $HUANGHE_URL 所指的服务器）。",
        "restricted": "本节仅向监管方和平台管理员提供（与算力赋能评价、算力券项目报告和风险预警的访问权限一致）。",
        "what_empowerment": "作业计量",
        "what_vouchers": "算力券发放或兑付",
        "what_risk": "安全事件或风险预警",
        "emp_line": "{year} 年共有 {enterprises} 家企业提交 {jobs} 个计量作业，使用 {node_hours} 节点时、"
        "{gpu_hours} GPU 卡时、{pflops_hours} PFLOPS·时（峰值，FP32 等效），支出 {spending} 元，"
        "其中算力券支付 {voucher} 元。",
        "emp_source": "{source}",
        "vou_line": "{year} 年共 {programmes} 个算力券项目在运行，发放 {granted} 元（扣除退回），兑付 {redeemed} 元，"
        "服务企业 {enterprises} 家。",
        "risk_line": "{year} 年共产生风险预警 {alerts} 条（严重 {critical}、高 {high}、中 {medium}、低 {low}），"
        "已处置 {resolved} 条；安全事件 {events} 次。确认时间中位数 {ack} 小时，处置时间中位数 {res} 小时。",
        "industry": "行业",
        "city": "城市",
        "center_kind": "中心类型",
        "programme": "项目",
        "fund": "资金 (元)",
        "granted": "已发放 (元)",
        "redeemed": "已兑付 (元)",
        "bought": "撬动算力消费 (元)",
        "enterprises": "企业数",
        "jobs": "作业数",
        "node_hours": "节点时",
        "gpu_hours": "GPU 卡时",
        "pflops_hours": "PFLOPS·时",
        "spending": "支出 (元)",
        "voucher": "算力券 (元)",
        "kind": "预警类型",
        "total": "合计",
        "state": "状态",
        "events": "安全事件",
        "alerts": "风险预警",
        "month": "月份",
        "sev_low": "低",
        "sev_medium": "中",
        "sev_high": "高",
        "sev_critical": "严重",
        "st_open": "待处理",
        "st_acknowledged": "已确认",
        "st_resolved": "已处置",
        "k_auth_failures": "反复认证失败",
        "k_refused_requests": "多次越权请求",
        "k_residency_refusal": "重要数据越界复制",
        "k_data_class_lowered": "数据级别被降低",
        "k_egress_anomaly": "数据外流异常",
        "k_audit_chain_break": "审计链校验失败",
        "ev_auth_failure": "认证失败",
        "ev_refused": "请求被拒绝",
        "ev_residency_refusal": "越界复制被拒绝",
        "ev_data_class_lowered": "数据级别降低",
        "ev_egress_anomaly": "数据外流异常",
        "ev_audit_chain_break": "审计链断裂",
        "chart_emp_industry": "各行业算力使用（PFLOPS·时）",
        "chart_emp_months": "逐月算力使用（PFLOPS·时）与支出（万元），横轴为月份",
        "y_emp_months": "PFLOPS·时 / 万元",
        "y_risk_months": "条 / 次",
        "chart_vou_industry": "各行业算力券发放与兑付（元）",
        "chart_vou_city": "算力所在城市的算力券兑付（元）",
        "chart_risk_kind": "风险预警（按类型与级别，条）",
        "chart_risk_months": "逐月风险预警（条）与安全事件（次），横轴为月份",
        "by_city_note": "城市为算力所在中心的城市。",
        "hours_na": "—",
    },
    "en": {
        "empowerment": "Compute empowerment of industries",
        "vouchers": "Compute voucher programmes",
        "risk": "Security risk monitoring",
        "no_data": "No data: the database holds no {what} for {year}.",
        "no_db": "No data: this report was rendered without the platform's database (use --db or a server at "
        "$HUANGHE_URL).",
        "restricted": "This section is shown to the regulator and platform admins only (as the empowerment "
        "evaluation, the programme reports and the risk alerts are).",
        "what_empowerment": "metered jobs",
        "what_vouchers": "voucher grants or redemptions",
        "what_risk": "security events or risk alerts",
        "emp_line": "In {year}, {enterprises} enterprises ran {jobs} metered jobs: {node_hours} node-hours, "
        "{gpu_hours} GPU-hours, {pflops_hours} PFLOPS-hours (peak, FP32-equivalent), spending {spending} CNY "
        "of which vouchers paid {voucher} CNY.",
        "emp_source": "{source}",
        "vou_line": "In {year}, {programmes} programmes granted {granted} CNY (net of returns) and redeemed "
        "{redeemed} CNY, serving {enterprises} enterprises.",
        "risk_line": "In {year}, {alerts} risk alerts were raised (critical {critical}, high {high}, medium "
        "{medium}, low {low}), {resolved} resolved; {events} security events. Median time to acknowledge {ack} h, "
        "to resolve {res} h.",
        "industry": "Industry",
        "city": "City",
        "center_kind": "Center kind",
        "programme": "Programme",
        "fund": "Fund (CNY)",
        "granted": "Granted (CNY)",
        "redeemed": "Redeemed (CNY)",
        "bought": "Compute bought (CNY)",
        "enterprises": "Enterprises",
        "jobs": "Jobs",
        "node_hours": "Node-hours",
        "gpu_hours": "GPU-hours",
        "pflops_hours": "PFLOPS-hours",
        "spending": "Spending (CNY)",
        "voucher": "Vouchers (CNY)",
        "kind": "Alert kind",
        "total": "Total",
        "state": "State",
        "events": "Security events",
        "alerts": "Risk alerts",
        "month": "Month",
        "sev_low": "low",
        "sev_medium": "medium",
        "sev_high": "high",
        "sev_critical": "critical",
        "st_open": "open",
        "st_acknowledged": "acknowledged",
        "st_resolved": "resolved",
        "k_auth_failures": "repeated auth failures",
        "k_refused_requests": "repeated refused requests",
        "k_residency_refusal": "residency refusals",
        "k_data_class_lowered": "lowered data classes",
        "k_egress_anomaly": "anomalous egress",
        "k_audit_chain_break": "audit-chain breaks",
        "ev_auth_failure": "auth failures",
        "ev_refused": "refused requests",
        "ev_residency_refusal": "residency refusals",
        "ev_data_class_lowered": "lowered data classes",
        "ev_egress_anomaly": "anomalous egress",
        "ev_audit_chain_break": "audit-chain breaks",
        "chart_emp_industry": "Compute used by industry (PFLOPS-hours)",
        "chart_emp_months": "Compute used (PFLOPS-hours) and spending (10k CNY) by month (x: month)",
        "y_emp_months": "PFLOPS-h / 10k CNY",
        "y_risk_months": "count",
        "chart_vou_industry": "Vouchers granted and redeemed by industry (CNY)",
        "chart_vou_city": "Vouchers redeemed by the city of the compute (CNY)",
        "chart_risk_kind": "Risk alerts by kind and severity",
        "chart_risk_months": "Risk alerts and security events by month (x: month)",
        "by_city_note": "City = the city of the center where the compute ran.",
        "hours_na": "—",
    },
}


@dataclass(frozen=True)
class UsageGroup:
    """Compute used and paid by one industry, city or center kind in the year."""

    key: str
    name_zh: str
    name_en: str
    enterprises: int
    jobs: int
    node_hours: float
    gpu_hours: float
    pflops_hours: float
    spending_cny: float
    voucher_cny: float


@dataclass(frozen=True)
class EmpowermentFigures:
    """The empowerment evaluation of the year; ``months`` = (``YYYY-MM``, PFLOPS-hours, spending CNY)."""

    totals: UsageGroup
    by_industry: list[UsageGroup]
    by_city: list[UsageGroup]
    by_center_kind: list[UsageGroup]
    months: list[tuple[str, float, float]]
    source_zh: str
    source_en: str


@dataclass(frozen=True)
class VoucherGroup:
    """Voucher money of one industry or provider city in the year (CNY)."""

    key: str
    name_zh: str
    name_en: str
    enterprises: int
    granted_cny: float
    redeemed_cny: float
    compute_bought_cny: float


@dataclass(frozen=True)
class ProgrammeFigures:
    id: str
    name_zh: str
    name_en: str
    fund_cny: float
    granted_cny: float
    redeemed_cny: float
    enterprises: int


@dataclass(frozen=True)
class VoucherFigures:
    """All programmes in the year: grants of the year (net of returns) and redemptions booked in it."""

    programmes: list[ProgrammeFigures]
    granted_cny: float
    redeemed_cny: float
    enterprises: int
    by_industry: list[VoucherGroup]
    by_provider_city: list[VoucherGroup]


@dataclass(frozen=True)
class RiskFigures:
    """Alerts opened in the year (by kind × severity, by current state), security events in the year (by
    kind), median hours from opening to acknowledgement / resolution (None when none), and by month
    (``YYYY-MM``, alerts opened, events)."""

    by_kind: dict[str, dict[str, int]]
    by_state: dict[str, int]
    events_by_kind: dict[str, int]
    ack_median_h: float | None
    resolve_median_h: float | None
    months: list[tuple[str, int, int]]

    @property
    def alerts(self) -> int:
        return sum(sum(v.values()) for v in self.by_kind.values())

    @property
    def events(self) -> int:
        return sum(self.events_by_kind.values())


@dataclass(frozen=True)
class AnnualSections:
    """What the report's three sections show; ``database`` False = rendered without a database (no data);
    ``restricted`` = the reader may not see these records (an operator): each section says so, no figures."""

    year: int
    database: bool
    restricted: bool = False
    empowerment: EmpowermentFigures | None = None
    vouchers: VoucherFigures | None = None
    risk: RiskFigures | None = None
    notes: list[str] = field(default_factory=list)


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _n(v: float, d: int = 2) -> str:
    return f"{v:,.{d}f}"


def _name(g: Any, lang: str) -> str:
    return str(g.name_zh if lang == "zh" else g.name_en)


def _empowerment(e: EmpowermentFigures | None, year: int, t: dict[str, str], lang: str) -> dict[str, Any]:
    if e is None or e.totals.jobs == 0:
        return {"data": False, "text": t["no_data"].format(year=year, what=t["what_empowerment"])}
    tot = e.totals
    used = [g for g in e.by_industry if g.jobs > 0] or e.by_industry
    return {
        "data": True,
        "text": t["emp_line"].format(
            year=year, enterprises=tot.enterprises, jobs=tot.jobs, node_hours=_n(tot.node_hours, 1),
            gpu_hours=_n(tot.gpu_hours, 1), pflops_hours=_n(tot.pflops_hours), spending=_n(tot.spending_cny),
            voucher=_n(tot.voucher_cny)),
        "source": t["emp_source"].format(source=e.source_zh if lang == "zh" else e.source_en),
        "tables": [(t["industry"], [(_name(g, lang), g) for g in e.by_industry]),
                   (t["city"], [(_name(g, lang), g) for g in e.by_city]),
                   (t["center_kind"], [(_name(g, lang), g) for g in e.by_center_kind])],
        "charts": [
            (_uri(charts.bars([_name(g, lang) for g in used], [g.pflops_hours for g in used],
                              t["chart_emp_industry"], "PFLOPS·h")), t["chart_emp_industry"]),
            (_uri(charts.lines(list(range(1, len(e.months) + 1)),
                               {t["pflops_hours"]: [m[1] for m in e.months],
                                t["spending"].replace("(元)", "(万元)").replace("(CNY)", "(10k CNY)"):
                                    [m[2] / 1e4 for m in e.months]},
                               t["chart_emp_months"], t["y_emp_months"])), t["chart_emp_months"]),
        ],
    }  # fmt: skip


def _vouchers(v: VoucherFigures | None, year: int, t: dict[str, str], lang: str) -> dict[str, Any]:
    if v is None or (v.granted_cny == 0 and v.redeemed_cny == 0 and not v.by_industry):
        return {"data": False, "text": t["no_data"].format(year=year, what=t["what_vouchers"])}
    ind = v.by_industry
    city = v.by_provider_city
    out: dict[str, Any] = {
        "data": True,
        "text": t["vou_line"].format(year=year, programmes=len(v.programmes), granted=_n(v.granted_cny),
                                     redeemed=_n(v.redeemed_cny), enterprises=v.enterprises),
        "programmes": [(_name(p, lang), p) for p in v.programmes],
        "tables": [(t["industry"], [(_name(g, lang), g) for g in ind]),
                   (t["city"], [(_name(g, lang), g) for g in city])],
        "charts": [(_uri(charts.grouped_bars(
            [_name(g, lang) for g in ind],
            {t["granted"]: [g.granted_cny for g in ind], t["redeemed"]: [g.redeemed_cny for g in ind]},
            t["chart_vou_industry"], "CNY")), t["chart_vou_industry"])],
    }  # fmt: skip
    if city:
        out["charts"].append(
            (
                _uri(charts.bars([_name(g, lang) for g in city], [g.redeemed_cny for g in city],
                                 t["chart_vou_city"], "CNY")),
                t["chart_vou_city"],
            )
        )  # fmt: skip
    return out


def _hours(v: float | None, t: dict[str, str]) -> str:
    return t["hours_na"] if v is None else _n(v, 1)


def _risk(r: RiskFigures | None, year: int, t: dict[str, str]) -> dict[str, Any]:
    if r is None or (r.alerts == 0 and r.events == 0):
        return {"data": False, "text": t["no_data"].format(year=year, what=t["what_risk"])}
    sev = {s: sum(k.get(s, 0) for k in r.by_kind.values()) for s in SEVERITIES}
    kinds = [k for k in ALERT_KINDS if k in r.by_kind] + sorted(set(r.by_kind) - set(ALERT_KINDS))
    label = {k: t.get(f"k_{k}", k) for k in kinds}
    months = list(range(1, len(r.months) + 1))
    return {
        "data": True,
        "text": t["risk_line"].format(year=year, alerts=r.alerts, resolved=r.by_state.get("resolved", 0),
                                      events=r.events, ack=_hours(r.ack_median_h, t),
                                      res=_hours(r.resolve_median_h, t), **sev),
        "severities": [(s, t[f"sev_{s}"]) for s in SEVERITIES],
        "kinds": [(label[k], r.by_kind[k], sum(r.by_kind[k].values())) for k in kinds],
        "states": [(t[f"st_{s}"], r.by_state.get(s, 0)) for s in STATES],
        "events": [(t.get(f"ev_{k}", k), n) for k, n in sorted(r.events_by_kind.items(), key=lambda kv: (-kv[1], kv[0]))],
        "charts": [
            (_uri(charts.stacked_bars([label[k] for k in kinds] or ["—"],
                                      {t[f"sev_{s}"]: [r.by_kind[k].get(s, 0) for k in kinds] or [0]
                                       for s in SEVERITIES},
                                      t["chart_risk_kind"], t["alerts"])), t["chart_risk_kind"]),
            (_uri(charts.lines(months, {t["alerts"]: [m[1] for m in r.months], t["events"]: [m[2] for m in r.months]},
                               t["chart_risk_months"], t["y_risk_months"])), t["chart_risk_months"]),
        ],
    }  # fmt: skip


def sections_context(sections: AnnualSections | None, lang: str, first_number: int) -> dict[str, Any]:
    """Template context of the three sections (``sections`` None: no database, each section says so)."""
    t = TEXT[lang]
    heads = [("empowerment", t["empowerment"]), ("vouchers", t["vouchers"]), ("risk", t["risk"])]
    if sections is not None and sections.restricted:
        body: dict[str, dict[str, Any]] = {k: {"data": False, "text": t["restricted"]} for k, _ in heads}
    elif sections is None or not sections.database:
        body = {k: {"data": False, "text": t["no_db"]} for k, _ in heads}
    else:
        y = sections.year
        body = {
            "empowerment": _empowerment(sections.empowerment, y, t, lang),
            "vouchers": _vouchers(sections.vouchers, y, t, lang),
            "risk": _risk(sections.risk, y, t),
        }
    return {
        "st": t,
        "sections": [
            {"key": k, "number": first_number + i, "heading": h, **body[k]} for i, (k, h) in enumerate(heads)
        ],
        "section_notes": list(sections.notes) if sections is not None else [],
    }
