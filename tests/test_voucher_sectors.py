"""A plain voucher's eligible sectors are the `算力+` industries (huanghe.domain.industries), as a programme's are:
``GET /api/v1/industries`` lists them to everyone signed in, ``POST /api/v1/vouchers`` refuses any other value
with a 422 naming the item (``body.sectors[i]``), a bill is paid by the voucher when the tenant's registered
sector falls into one of them, and a voucher issued before with free-text sectors is answered as written and
matched exactly. The CLI refuses an unknown sector with exit 2 naming ``--sector`` (programmes too). Attackers
first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from huanghe.billing import service as billing
from huanghe.billing import vouchers
from huanghe.billing.models import VoucherRow
from huanghe.cli.main import app as cli
from huanghe.domain.industries import INDUSTRIES
from huanghe.tenancy.models import TenantRow
from tests.security_support import World, world

API = "/api/v1"
BODY = {"tenant": "ta", "amount_cny": "1000.00", "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2027-01-01T00:00:00Z"}  # fmt: skip


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'vs.db'}") as wd:
        yield wd


def _issue(w: World, who: str = "regulator", **extra: object) -> tuple[int, dict[str, object]]:
    r = w.client.post(f"{API}/vouchers", json={**BODY, **extra}, headers=w.h(who))
    return r.status_code, r.json()


def _sector(w: World, sector: str) -> None:
    with w.session() as s:
        s.execute(update(TenantRow).where(TenantRow.id == "ta").values(sector=sector))
        s.commit()


def test_tenants_and_operators_cannot_issue_and_the_vouchers_readers_read_the_industries(w: World) -> None:
    for who in ("tenant_admin", "tenant_user", "tenant_user_b", "operator"):
        status, _ = _issue(w, who, sectors=["finance"])
        assert status == 403, who
        r = w.client.get(f"{API}/industries", headers=w.h(who))
        if who == "operator":  # sees no vouchers: no use for the list
            assert r.status_code == 403
        else:
            assert r.status_code == 200 and [x["key"] for x in r.json()][-1] == "other", who
    assert w.client.get(f"{API}/industries", headers=w.h("anon")).status_code == 401
    assert w.client.get(f"{API}/vouchers", headers=w.h("regulator")).json()["total"] == 0
    listed = w.client.get(f"{API}/industries", headers=w.h("regulator")).json()
    assert [(x["key"], x["name_zh"], x["name_en"]) for x in listed] == list(INDUSTRIES)


def test_valid_sectors_are_stored_and_an_unknown_one_is_refused_naming_it(w: World) -> None:
    status, v = _issue(w, sectors=["finance", "other"])
    assert status == 201 and v["sectors"] == ["finance", "other"], v
    status, err = _issue(w, "admin", sectors=["finance", "software"])
    assert status == 422
    detail = err["detail"][0]  # type: ignore[index]
    assert detail["path"] == "body.sectors[1]", detail
    assert "software" in detail["message"] and "manufacturing" in detail["message"], detail
    status, err = _issue(w, sectors=["Finance"])  # keys, not names or other spellings
    assert status == 422 and err["detail"][0]["path"] == "body.sectors[0]"  # type: ignore[index]
    assert w.client.get(f"{API}/vouchers", headers=w.h("regulator")).json()["total"] == 1


def _bill(w: World, month: str) -> billing.InvoicePublic:
    """A job of ``ta`` on the 2nd of ``month`` (6.4 CNY/node-h × 10 h = 64.00 CNY), and the month's bill."""
    start = datetime.fromisoformat(f"{month}-02T00:00:00+00:00").timestamp()
    with w.session() as s:
        billing.meter_job(s, job_id=f"j-{month}", tenant_id="ta", pool_id="jn-sc-cpu", started_s=start,
                          ended_s=start + 10 * 3600)  # fmt: skip
        s.commit()
        body = billing.InvoiceCreate(tenant="ta", month=month)
        return billing.create_invoice(s, body, actor="t", now=start + 86400)


def test_a_bill_is_paid_when_the_tenants_sector_falls_into_a_voucher_industry(w: World) -> None:
    _sector(w, "Banking")  # a registered sector written another way: banking → finance
    _, finance = _issue(w, sectors=["finance"])
    _, factory = _issue(
        w, sectors=["manufacturing"], valid_until="2026-12-31T00:00:00Z"
    )  # used first if eligible
    inv = _bill(w, "2026-03")
    assert (inv.voucher_cny, inv.cash_cny) == (Decimal("64.00"), Decimal("0.00"))
    with w.session() as s:
        assert vouchers.get(s, str(finance["id"])).balance_cny == Decimal("936.00")
        assert vouchers.get(s, str(factory["id"])).balance_cny == Decimal("1000.00")
    assert vouchers.sector_eligible(["finance"], "FinTech") and not vouchers.sector_eligible(
        ["finance"], "steel"
    )
    assert vouchers.sector_eligible([], "anything") and vouchers.sector_eligible(["other"], "research")


def test_older_free_text_sectors_are_answered_as_written_and_matched_exactly(w: World) -> None:
    _, old = _issue(w, sectors=["finance"])
    with w.session() as s:  # a row from before: free text, kept as it is (no migration)
        s.execute(update(VoucherRow).where(VoucherRow.id == old["id"]).values(sectors=["software"]))
        s.commit()
    got = w.client.get(f"{API}/vouchers/{old['id']}", headers=w.h("tenant_user")).json()
    assert got["sectors"] == ["software"]
    _sector(w, "manufacturing")
    assert _bill(w, "2026-03").voucher_cny == Decimal("0.00")  # not eligible: another sector
    _sector(w, "software")  # written exactly as the voucher has it (its industry, other, is not named)
    assert _bill(w, "2026-04").voucher_cny == Decimal("64.00")


def test_cli_refuses_an_unknown_sector_naming_the_option(w: World) -> None:
    run = CliRunner().invoke
    issue = ["vouchers", "issue", "--tenant", "ta", "--amount-cny", "10", "--valid-until", "2027-01-01"]
    bad = run(cli, [*issue, "--sector", "finance", "--sector", "software", "--db", w.url])
    assert bad.exit_code == 2, bad.output
    assert "--sector (value 2): " in bad.output and "unknown sector 'software'" in bad.output, bad.output
    assert "--sectors" not in bad.output
    ok = run(cli, [*issue, "--sector", "ocean", "--db", w.url, "--json"])
    assert ok.exit_code == 0 and '"ocean"' in ok.stdout, ok.output
    bad = run(cli, ["vouchers", "programme", "create", "--id", "x", "--preset", "shandong-2025", "--sector",
                    "ocean", "--sector", "software", "--db", w.url])  # fmt: skip
    assert bad.exit_code == 2 and "--sector (value 2): " in bad.output and "--sectors" not in bad.output
