"""An invoice as a file: CSV (one line per metered job) or PDF (WeasyPrint), in Chinese or English.

Both hold the invoice's totals (CNY: total = paid by vouchers + own money) and every job it bills: pool,
center, operator, start and end (UTC), node-hours, GPU-hours, price (CNY per node-hour), cost (CNY), energy
(kWh) and carbon (kg CO2) — the :class:`~huanghe.billing.service.UsagePublic` rows whose ``invoice_id`` is
the invoice. The sum of the job costs equals ``total_cny`` (both in fen before conversion). CSV cells that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return) get a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.billing.models import InvoiceRow, UsageRow
from huanghe.billing.service import get_invoice
from huanghe.core.errors import invalid
from huanghe.domain.tenancy import fen_to_cny
from huanghe.tenancy.models import TenantRow

FORMATS = ("pdf", "csv")
LANGS = ("zh", "en")

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "算力服务账单", "invoice": "账单编号", "tenant": "租户", "month": "账期（UTC）",
        "total": "应付合计（元）", "voucher": "算力券抵扣（元）", "cash": "自付金额（元）", "jobs": "作业数",
        "job": "作业", "pool": "资源池", "center": "算力中心", "operator": "运营方", "started": "开始（UTC）",
        "ended": "结束（UTC）", "node_hours": "节点小时", "gpu_hours": "加速卡小时",
        "price": "单价（元/节点小时）", "cost": "费用（元）", "energy": "能耗（千瓦时）",
        "carbon": "碳排放（千克）", "issued": "开具时间（UTC）", "lines": "按资源池汇总",
        "amount": "金额（元）", "detail": "作业明细",
        "note": "金额以分为单位精确计算；算力券先于自付金额抵扣（在各券可抵扣比例之内）。",
    },
    "en": {
        "title": "Compute service invoice", "invoice": "Invoice", "tenant": "Tenant", "month": "Month (UTC)",
        "total": "Total (CNY)", "voucher": "Paid by vouchers (CNY)", "cash": "Own money (CNY)", "jobs": "Jobs",
        "job": "Job", "pool": "Pool", "center": "Center", "operator": "Operator", "started": "Started (UTC)",
        "ended": "Ended (UTC)", "node_hours": "Node-hours", "gpu_hours": "GPU-hours",
        "price": "Price (CNY/node-hour)", "cost": "Cost (CNY)", "energy": "Energy (kWh)",
        "carbon": "Carbon (kg CO2)", "issued": "Issued (UTC)", "lines": "Per pool",
        "amount": "Amount (CNY)", "detail": "Jobs billed",
        "note": "Amounts are exact in fen; vouchers pay first (within each voucher's share), own money the rest.",
    },
}  # fmt: skip
_COLUMNS = ("job", "pool", "center", "operator", "started", "ended", "node_hours", "gpu_hours", "price",
            "cost", "energy", "carbon")  # fmt: skip


def _utc(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _job_rows(session: Session, invoice_id: int) -> list[list[str]]:
    usage = session.scalars(
        select(UsageRow).where(UsageRow.invoice_id == invoice_id).order_by(UsageRow.ended_s, UsageRow.id)
    ).all()
    return [
        [u.job_id, u.pool_id, u.center_id, u.operator, _utc(u.started_s), _utc(u.ended_s), f"{u.node_hours:.6f}",
         f"{u.gpu_hours:.6f}", str(fen_to_cny(u.price_fen_per_node_hour)), str(fen_to_cny(u.cost_fen)),
         f"{u.energy_kwh:.4f}", f"{u.carbon_kg:.4f}"]
        for u in usage
    ]  # fmt: skip


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text (never runs it as a formula)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _context(session: Session, invoice_id: int, lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise invalid("lang", f"expected one of {', '.join(LANGS)}, got {lang!r}")
    inv = get_invoice(session, invoice_id)  # NotFoundError (404) when absent
    row = session.get(InvoiceRow, invoice_id)
    tenant = session.get(TenantRow, inv.tenant)
    return {
        "w": _WORDS[lang], "inv": inv, "tenant_name": tenant.name if tenant else inv.tenant,
        "issued": _utc(row.created_s) if row else "", "rows": _job_rows(session, invoice_id),
        "columns": _COLUMNS, "lang": "zh-CN" if lang == "zh" else "en",
    }  # fmt: skip


def invoice_csv(session: Session, invoice_id: int, lang: str = "zh") -> bytes:
    """The invoice as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese headings): a block
    of totals, an empty line, then one line per job."""
    c = _context(session, invoice_id, lang)
    w, inv = c["w"], c["inv"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for key, value in (("invoice", inv.id), ("tenant", inv.tenant), ("month", inv.month),
                       ("total", inv.total_cny), ("voucher", inv.voucher_cny), ("cash", inv.cash_cny),
                       ("jobs", inv.jobs), ("issued", c["issued"])):  # fmt: skip
        writer.writerow([w[key], _safe_cell(str(value))])
    writer.writerow([])
    writer.writerow([w[k] for k in _COLUMNS])
    writer.writerows([[_safe_cell(v) for v in r] for r in c["rows"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_HTML = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ w.title }} {{ inv.id }}</title>
<style>
  @page { size: A4 landscape; margin: 14mm 12mm;
          @bottom-center { content: "{{ w.invoice }} {{ inv.id }} · " counter(page) " / " counter(pages);
                           font-size: 8pt; color: #666; } }
  body { font-family: "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans", "DejaVu Sans", sans-serif;
         font-size: 9.5pt; color: #222; }
  h1 { font-size: 17pt; color: #1f5f8b; margin: 0 0 4mm 0; }
  h2 { font-size: 12pt; color: #1f5f8b; border-bottom: 1px solid #ccd; margin-top: 6mm; }
  table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
  th, td { border-bottom: 1px solid #dde; padding: 1.2mm 2mm; text-align: left; }
  th { background: #eef3f8; }
  td.num, th.num { text-align: right; }
  table.kv { width: auto; } table.kv th { background: none; color: #555; font-weight: normal; }
  .note { color: #555; font-size: 8.5pt; margin-top: 4mm; }
</style></head><body>
<h1>{{ w.title }}</h1>
<table class="kv">
  <tr><th>{{ w.invoice }}</th><td>{{ inv.id }}</td></tr>
  <tr><th>{{ w.tenant }}</th><td>{{ tenant_name }} ({{ inv.tenant }})</td></tr>
  <tr><th>{{ w.month }}</th><td>{{ inv.month }}</td></tr>
  <tr><th>{{ w.issued }}</th><td>{{ issued }}</td></tr>
  <tr><th>{{ w.total }}</th><td class="num"><b>{{ inv.total_cny }}</b></td></tr>
  <tr><th>{{ w.voucher }}</th><td class="num">{{ inv.voucher_cny }}</td></tr>
  <tr><th>{{ w.cash }}</th><td class="num">{{ inv.cash_cny }}</td></tr>
  <tr><th>{{ w.jobs }}</th><td class="num">{{ inv.jobs }}</td></tr>
</table>
<h2>{{ w.lines }}</h2>
<table><tr><th>{{ w.operator }}</th><th>{{ w.center }}</th><th>{{ w.pool }}</th><th class="num">{{ w.amount }}</th></tr>
{% for ln in inv.lines %}<tr><td>{{ ln.operator }}</td><td>{{ ln.center }}</td><td>{{ ln.pool }}</td>
<td class="num">{{ ln.amount_cny }}</td></tr>{% endfor %}
</table>
<h2>{{ w.detail }}</h2>
<table><tr>{% for k in columns %}<th{% if loop.index > 6 %} class="num"{% endif %}>{{ w[k] }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for v in r %}<td{% if loop.index > 6 %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="note">{{ w.note }}</p>
</body></html>"""


def invoice_html(session: Session, invoice_id: int, lang: str = "zh") -> str:
    """The invoice as an HTML page (what the PDF is printed from); every value escaped."""
    from jinja2 import Environment

    return Environment(autoescape=True).from_string(_HTML).render(**_context(session, invoice_id, lang))


def invoice_pdf(session: Session, invoice_id: int, lang: str = "zh") -> bytes:
    """The invoice as PDF (A4 landscape), printed by WeasyPrint from :func:`invoice_html`."""
    html = invoice_html(session, invoice_id, lang)
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads only for a PDF

    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def export(session: Session, invoice_id: int, fmt: str, lang: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the invoice in ``fmt`` (pdf | csv) and ``lang`` (zh | en)."""
    if fmt not in FORMATS:
        raise invalid("format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "csv":
        return invoice_csv(session, invoice_id, lang), "text/csv; charset=utf-8", f"invoice-{invoice_id}.csv"
    return invoice_pdf(session, invoice_id, lang), "application/pdf", f"invoice-{invoice_id}.pdf"
