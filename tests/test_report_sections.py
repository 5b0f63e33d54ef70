"""The annual report's sections from the database (empowerment, vouchers, risk): a year seeded with
programmes, grants, metered jobs redeemed on invoices, risk alerts and security events, rendered to PDF by the
server (regulator; an operator gets the report with these sections withheld) and by the CLI (``--db``), checked page by page with poppler (``pdftotext`` for each
section's heading and numbers on its page, ``pdfimages -list`` for a chart on that same page); records of other
years stay out; an empty year and a report without a database say 暂无数据 / no data; SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from huanghe.billing import programmes
from huanghe.billing import service as billing
from huanghe.billing.programme_schemas import ApplicationCreate, ProgrammeCreate, Review
from huanghe.cli.main import app as cli
from huanghe.regulator import risk
from huanghe.regulator.report_sections import annual_sections
from tests.security_support import MINI, World, world

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (make test-deps)"
)

API = "/api/v1"
YEAR = 2025
H = 3600.0


def _t(month: int, day: int = 2, year: int = YEAR) -> float:
    return datetime(year, month, day, tzinfo=UTC).timestamp()


def _seed(s: Session) -> None:
    """2025: a bill programme (50 % of the bill) grants ta 150 and tb 50 CNY; ta runs 2 h on Qingdao's AI pool
    (240.00 CNY), tb 1.5 h on Jinan's CPU pool (9.60); the March invoices redeem 120.00 + 4.80. Risk: an
    auth-failure alert (high, acknowledged after 2 h, resolved after 5 h) and an audit-chain break (critical,
    open); 25 + 7 security events. 2026 holds a job, a grant and an alert that the 2025 report must not show."""
    body = ProgrammeCreate(id="p25", name_zh="测试算力券", name_en="test vouchers", authority="test", basis="bill",
                           share=Decimal("0.5"), fund_cny=Decimal("1000"),
                           opens=datetime(YEAR, 1, 1, tzinfo=UTC))  # fmt: skip
    programmes.create(s, body, by="reg", now=_t(1, 5))
    for tenant, basis in (("ta", "300"), ("tb", "100")):
        app = programmes.apply(s, ApplicationCreate(programme="p25", tenant=tenant, basis_cny=Decimal(basis)),
                               by="admin", now=_t(2))  # fmt: skip
        programmes.review(s, app.id, Review(decision="approve"), by="reg", now=_t(2, 3))
    billing.meter_job(
        s, job_id="j1", tenant_id="ta", pool_id="qd-ai-910b", started_s=_t(3), ended_s=_t(3) + 2 * H
    )
    billing.meter_job(
        s, job_id="j2", tenant_id="tb", pool_id="jn-sc-cpu", started_s=_t(3), ended_s=_t(3) + 1.5 * H
    )
    billing.meter_job(s, job_id="j9", tenant_id="ta", pool_id="qd-ai-910b", started_s=_t(3, year=2026),
                      ended_s=_t(3, year=2026) + 5 * H)  # fmt: skip
    s.commit()
    for tenant in ("ta", "tb"):
        billing.create_invoice(
            s, billing.InvoiceCreate(tenant=tenant, month=f"{YEAR}-03"), actor="t", now=_t(4)
        )
    alert, _ = risk.raise_alert(s, "auth_failures", "10.0.0.9", "high", "25 unauthenticated requests",
                                events=25, first_s=_t(5), last_s=_t(5), now=_t(5))  # fmt: skip
    risk.raise_alert(s, "audit_chain_break", "seq 7", "critical", "break", events=1, first_s=_t(9), last_s=_t(9),
                     now=_t(9))  # fmt: skip
    risk.raise_alert(s, "egress_anomaly", "tb", "high", "next year", events=1, first_s=_t(2, year=2026),
                     last_s=_t(2, year=2026), now=_t(2, year=2026))  # fmt: skip
    from huanghe.audit.security_events import record_event

    record_event(s, "auth_failure", source="10.0.0.9", now=_t(5), count=25)
    record_event(s, "refused", actor="token:x", now=_t(6), count=7)
    record_event(s, "refused", actor="token:x", now=_t(6, year=2026), count=100)
    s.commit()
    risk.acknowledge(s, alert.id, actor="reg", now=_t(5) + 2 * H)
    risk.resolve(s, alert.id, risk.Resolve(note="blocked the address"), actor="reg", now=_t(5) + 5 * H)


@pytest.fixture
def w(db_url: str) -> Iterator[World]:
    with world(db_url) as wd:
        with wd.session() as s:
            _seed(s)
        yield wd


def _pages(pdf: Path) -> list[str]:
    """Text of each page, whitespace removed (pdftotext breaks Chinese lines anywhere)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [re.sub(r"\s+", "", p) for p in text.split("\f")]


def _image_pages(pdf: Path) -> set[int]:
    """1-based page numbers that carry an image (``pdfimages -list``: page, num, type, ...)."""
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {int(line.split()[0]) for line in out.splitlines()[2:] if line.strip()}


def _section_page(pages: list[str], heading: str) -> int:
    """1-based page whose text has the heading (a section starts on its own page)."""
    hits = [i + 1 for i, p in enumerate(pages) if heading in p]
    assert len(hits) == 1, (heading, hits)
    return hits[0]


def _check_sections(pdf: Path, first: int) -> None:
    pages, images = _pages(pdf), _image_pages(pdf)
    expected = {
        f"{first}.算力赋能评价": ["2025年共有2家企业提交2个计量作业", "3.5节点时", "支出249.60元", "算力券支付124.80元",
                                "算力+制造", "算力+金融", "青岛", "智算中心"],
        f"{first + 1}.算力券项目": ["1个算力券项目", "发放200.00元", "兑付124.80元", "服务企业2家", "测试算力券",
                                  "1,000.00", "150.00", "120.00", "算力+制造", "算力+金融"],
        f"{first + 2}.安全风险监测": ["风险预警2条", "严重1", "高1", "已处置1条", "安全事件32次",
                                    "确认时间中位数2.0小时", "处置时间中位数5.0小时", "反复认证失败", "审计链校验失败"],
    }  # fmt: skip
    for heading, numbers in expected.items():
        page = _section_page(pages, heading)
        assert page in images, (heading, page, sorted(images))  # a chart on the section's own page
        text = "".join(pages[page - 1 : page + 1])  # its tables may run onto the next page
        head = pages[page - 1]
        assert numbers[0] in head, (heading, head[:400])  # the summary line with its figures is on that page
        missing = [n for n in numbers if n not in text]
        assert not missing, (heading, missing)
    assert "暂无数据" not in "".join(pages)
    assert "数据外流异常" not in "".join(pages)  # 2026's egress alert stays out of 2025


def test_the_year_from_the_database(w: World) -> None:
    with w.session() as s:
        sec = annual_sections(s, YEAR)
    assert sec.empowerment is not None and sec.vouchers is not None and sec.risk is not None
    assert (sec.empowerment.totals.jobs, sec.empowerment.totals.spending_cny) == (2, 249.60)
    assert sec.empowerment.totals.voucher_cny == pytest.approx(124.80)
    assert [m[0] for m in sec.empowerment.months][:3] == ["2025-01", "2025-02", "2025-03"]
    assert sec.empowerment.months[2][2] == pytest.approx(249.60) and sec.empowerment.months[3][2] == 0.0
    assert (sec.vouchers.granted_cny, sec.vouchers.redeemed_cny, sec.vouchers.enterprises) == (
        200.0,
        124.8,
        2,
    )
    assert [(g.key, g.granted_cny) for g in sec.vouchers.by_industry] == [
        ("manufacturing", 150.0),
        ("finance", 50.0),
    ]
    assert [(g.key, g.redeemed_cny) for g in sec.vouchers.by_provider_city] == [
        ("qingdao", 120.0),
        ("jinan", 4.8),
    ]
    r = sec.risk
    assert (r.alerts, r.events, r.by_state) == (2, 32, {"open": 1, "acknowledged": 0, "resolved": 1})
    assert r.by_kind == {"auth_failures": {"low": 0, "medium": 0, "high": 1, "critical": 0},
                         "audit_chain_break": {"low": 0, "medium": 0, "high": 0, "critical": 1}}  # fmt: skip
    assert (r.ack_median_h, r.resolve_median_h) == (2.0, 5.0)
    assert r.events_by_kind == {"auth_failure": 25, "refused": 7}
    with w.session() as s:
        nxt = annual_sections(s, 2026)
    assert nxt.risk is not None and (nxt.risk.alerts, nxt.risk.events) == (1, 100)
    assert nxt.vouchers is not None and nxt.vouchers.granted_cny == 0.0


def test_server_pdf_page_by_page(w: World, tmp_path: Path) -> None:
    r = w.client.get(f"{API}/observatory/reports/index?year={YEAR}&format=pdf", headers=w.h("regulator"))
    assert r.status_code == 200, r.text[:300]
    pdf = tmp_path / "index.pdf"
    pdf.write_bytes(r.content)
    _check_sections(pdf, 9)
    assert (
        w.client.get(f"{API}/observatory/reports/index?year={YEAR}", headers=w.h("tenant_user")).status_code
        == 403
    )


def test_an_operator_gets_the_report_without_the_records(w: World) -> None:
    """Operators may download reports, but not read the empowerment evaluation, programme reports or risk
    alerts: the three sections say they are withheld and carry no figure."""
    r = w.client.get(f"{API}/observatory/reports/storage?year={YEAR}&format=html", headers=w.h("operator"))
    assert r.status_code == 200, r.text[:300]
    html = re.sub(r"\s+", "", r.text)
    assert html.count("本节仅向监管方和平台管理员提供") == 3
    for figure in ("249.60", "124.80", "200.00", "测试算力券", "反复认证失败", "算力+制造"):
        assert figure not in html, figure
    admin = w.client.get(f"{API}/observatory/reports/storage?year={YEAR}&format=html", headers=w.h("admin"))
    assert "本节仅向监管方" not in admin.text and "249.60" in re.sub(r"\s+", "", admin.text)


def test_cli_db_pdf_and_an_empty_year(w: World, tmp_path: Path) -> None:
    runner = CliRunner()
    pdf = tmp_path / "storage.pdf"
    args = ["report", "storage", "--network", str(MINI), "--db", w.url, "--out"]
    res = runner.invoke(cli, [*args, str(pdf), "--year", str(YEAR)])
    assert res.exit_code == 0, res.output
    _check_sections(pdf, 6)
    empty = tmp_path / "empty.pdf"
    res = runner.invoke(cli, [*args, str(empty), "--year", "2024"])
    assert res.exit_code == 0, res.output
    pages = _pages(empty)
    for heading in ("6.算力赋能评价", "7.算力券项目", "8.安全风险监测"):
        page = pages[_section_page(pages, heading) - 1]
        assert "暂无数据" in page and "2024年" in page, page[:300]
    assert "249.60" not in "".join(pages) and "124.80" not in "".join(pages)


def test_without_a_database_the_sections_say_so_in_both_languages(tmp_path: Path) -> None:
    runner = CliRunner()
    for lang, words in (("zh", ("暂无数据", "未读取平台数据库")), ("en", ("Nodata", "withouttheplatform"))):
        out = tmp_path / f"index-{lang}.html"
        res = runner.invoke(cli, ["report", "index", "--network", str(MINI), "--year", str(YEAR), "--lang", lang,
                                  "--out", str(out)])  # fmt: skip
        assert res.exit_code == 0, res.output
        html = re.sub(r"\s+", "", out.read_text(encoding="utf-8"))
        assert html.count(words[0]) == 3 and words[1] in html
