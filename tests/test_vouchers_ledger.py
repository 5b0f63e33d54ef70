"""Vouchers (算力券): issue, eligibility, max share, expiry, revocation, tenant isolation; the double-entry
ledger always balances; parallel redemptions on the real PostgreSQL never overspend a voucher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from huanghe.billing import ledger, vouchers
from huanghe.billing import service as billing
from huanghe.billing.models import VoucherRow
from huanghe.cli.main import app as cli
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from tests.security_support import World, seed, world

API = "/api/v1"
T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()  # a time inside every voucher's validity below
UNTIL = "2027-01-01T00:00:00Z"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'v.db'}") as wd:
        yield wd


@pytest.fixture
def wdb(db_url: str) -> Iterator[World]:
    """The same world on SQLite and on the private PostgreSQL."""
    with world(db_url) as wd:
        yield wd


def _issue(w: World, **extra: object) -> dict[str, object]:
    body = {
        "tenant": "ta",
        "amount_cny": "1000.00",
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": UNTIL,
        **extra,
    }
    r = w.client.post(f"{API}/vouchers", json=body, headers=w.h("regulator"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_regulator_issues_tenants_see_only_their_own(w: World) -> None:
    v = _issue(w, max_share="0.5", centers=["qd-ai"])
    assert v["balance_cny"] == "1000.00" and v["max_share"] == "0.5" and v["issuer"] == "regulator:reg#2"
    assert w.client.get(f"{API}/vouchers/{v['id']}", headers=w.h("tenant_user")).status_code == 200
    other = w.client.get(f"{API}/vouchers/{v['id']}", headers=w.h("tenant_user_b"))
    assert other.status_code == 404 and "1000" not in other.text
    assert w.client.get(f"{API}/vouchers?tenant=ta", headers=w.h("tenant_user_b")).json()["total"] == 0
    assert w.client.post(f"{API}/vouchers", json={"tenant": "ta", "amount_cny": "1", "valid_until": UNTIL},
                         headers=w.h("tenant_admin")).status_code == 403  # fmt: skip
    bad = w.client.post(f"{API}/vouchers", json={"tenant": "ta", "amount_cny": "0.001", "valid_until": UNTIL},
                        headers=w.h("regulator"))  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "body.amount_cny"
    bad = w.client.post(f"{API}/vouchers", json={"tenant": "ta", "amount_cny": "5", "valid_until": UNTIL,
                        "centers": ["nowhere"]}, headers=w.h("regulator"))  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "body.centers[0]"


def _meter(s: Session, job: str, pool: str, hours: float, tenant: str = "ta") -> None:
    billing.meter_job(s, job_id=job, tenant_id=tenant, pool_id=pool, started_s=T0, ended_s=T0 + hours * 3600)
    s.commit()


def test_invoice_splits_between_voucher_and_own_money(wdb: World) -> None:
    w = wdb
    v = _issue(w, max_share="0.5", centers=["qd-ai"])
    with w.session() as s:
        _meter(s, "j1", "qd-ai-910b", 2.0)  # 120 CNY/node-h × 2 h = 240.00, eligible
        _meter(s, "j2", "jn-sc-cpu", 1.5)  # 6.4 × 1.5 = 9.60, not eligible (other center)
        inv = billing.create_invoice(
            s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t", now=T0 + 86400
        )
    assert inv.total_cny == Decimal("249.60") and inv.voucher_cny == Decimal("120.00")
    assert inv.cash_cny == Decimal("129.60") and inv.jobs == 2
    with w.session() as s:
        assert vouchers.get(s, str(v["id"])).balance_cny == Decimal("880.00")
        tb = ledger.trial_balance(s)
        assert tb.balanced and tb.total_debit_fen == tb.total_credit_fen
        assert ledger.account_balance(s, ledger.voucher_account(str(v["id"]))) == 88_000
        assert ledger.account_balance(s, ledger.receivable_account("ta")) == 0  # fully paid
        assert ledger.account_balance(s, ledger.payable_account("telecom")) == 24_000
        with pytest.raises(Exception, match="already invoiced"):
            billing.create_invoice(s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t", now=T0)
    r = w.client.get(f"{API}/invoices/{inv.id}", headers=w.h("tenant_user_b"))
    assert r.status_code == 404 and "249" not in r.text
    assert (
        w.client.get(f"{API}/invoices/{inv.id}", headers=w.h("tenant_user")).json()["voucher_cny"] == "120.00"
    )
    st = w.client.get(f"{API}/settlements?month=2026-03", headers=w.h("regulator")).json()
    assert {(x["operator"], x["billed_cny"]) for x in st} == {("telecom", "240.00"), ("institute", "9.60")}
    assert w.client.get(f"{API}/ledger/balances", headers=w.h("regulator")).json()["balanced"] is True


def test_sector_expiry_and_revocation(w: World) -> None:
    finance_only = _issue(w, sectors=["finance"])  # ta is manufacturing: not eligible
    expired = _issue(w, valid_from="2025-01-01T00:00:00Z", valid_until="2026-02-01T00:00:00Z")
    good = _issue(w, amount_cny="50.00")
    with w.session() as s:
        _meter(s, "j1", "jn-sc-cpu", 10.0)  # 64.00
        inv = billing.create_invoice(
            s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t", now=T0 + 86400
        )
        assert (inv.voucher_cny, inv.cash_cny) == (Decimal("50.00"), Decimal("14.00"))
        assert vouchers.get(s, str(finance_only["id"])).balance_cny == Decimal("1000.00")
        assert vouchers.get(s, str(expired["id"]), now=T0).expired is True
        assert vouchers.get(s, str(good["id"])).balance_cny == Decimal("0.00")
    r = w.client.post(f"{API}/vouchers/{finance_only['id']}/revoke", headers=w.h("regulator"))
    assert r.status_code == 200 and r.json()["revoked"] is True and r.json()["balance_cny"] == "0.00"
    assert (
        w.client.post(f"{API}/vouchers/{finance_only['id']}/revoke", headers=w.h("regulator")).status_code
        == 200
    )
    with w.session() as s:
        assert ledger.account_balance(s, ledger.voucher_account(str(finance_only["id"]))) == 0
        assert ledger.trial_balance(s).balanced


def test_unbalanced_postings_are_refused(w: World) -> None:
    with w.session() as s:
        with pytest.raises(ledger.UnbalancedPostingError):
            ledger.post(
                s, "bad", [ledger.Line("cash", debit_fen=100), ledger.Line("subsidy_fund", credit_fen=99)]
            )
        with pytest.raises(ledger.UnbalancedPostingError):
            ledger.post(s, "bad", [ledger.Line("cash", debit_fen=5, credit_fen=5)])


def test_cli_issue_list_show_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate(url)
    factory = make_session_factory(url)
    with factory() as s:
        seed(s)
    factory.kw["bind"].dispose()
    runner = CliRunner()
    r = runner.invoke(cli, ["vouchers", "issue", "--tenant", "ta", "--amount-cny", "300", "--valid-until",
                            "2027-01-01", "--max-share", "0.3", "--db", url, "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    vid = __import__("json").loads(r.stdout)[0]["id"]
    listed = runner.invoke(cli, ["vouchers", "list", "--db", url, "--json"])
    assert vid in listed.stdout and '"300.00"' in listed.stdout
    assert runner.invoke(cli, ["vouchers", "show", vid, "--db", url]).exit_code == 0
    assert runner.invoke(cli, ["vouchers", "revoke", vid, "--db", url]).exit_code == 0
    bad = runner.invoke(cli, ["vouchers", "issue", "--tenant", "ta", "--amount-cny", "abc", "--valid-until",
                              "2027-01-01", "--db", url])  # fmt: skip
    assert bad.exit_code == 2 and "--amount-cny" in bad.output
    missing = runner.invoke(cli, ["vouchers", "show", "v-nope", "--db", url])
    assert missing.exit_code == 1 and "not found" in missing.output
    assert runner.invoke(cli, ["billing", "ledger", "--db", url]).exit_code == 0


@pytest.mark.postgres
def test_parallel_redemptions_never_overspend_on_postgresql(fresh_postgres_url: str) -> None:
    """16 threads each pay a 100 CNY bill with the same 1000 CNY voucher (share 100 %)."""
    migrate(fresh_postgres_url)
    factory: sessionmaker[Session] = make_session_factory(fresh_postgres_url)
    try:
        with factory() as s:
            seed(s)
            v = vouchers.issue(s, vouchers.VoucherCreate(tenant="ta", amount_cny=Decimal("1000"),
                               valid_until=datetime(2030, 1, 1, tzinfo=UTC)), issuer="reg", now=T0)  # fmt: skip
        barrier = threading.Barrier(16)
        paid: list[tuple[int, int]] = []
        errors: list[BaseException] = []

        def client(i: int) -> None:
            try:
                barrier.wait()
                with factory() as s:
                    lines = [vouchers.BillLine("qd-ai", "qd-ai-910b", 10_000)]
                    ledger.transfer(
                        s,
                        f"bill {i}",
                        ledger.receivable_account("ta"),
                        ledger.payable_account("telecom"),
                        10_000,
                    )
                    result = vouchers.pay_bill(s, tenant_id="ta", lines=lines, memo=f"bill {i}", now=T0 + 1)
                    s.commit()
                    paid.append(result)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(paid) == 16
        by_voucher = sum(p[0] for p in paid)
        assert by_voucher == 100_000 and sum(p[1] for p in paid) == 60_000
        assert sorted(p[0] for p in paid).count(10_000) == 10
        with factory() as s:
            row = s.get(VoucherRow, v.id)
            assert row is not None and row.balance_fen == 0
            tb = ledger.trial_balance(s)
            assert tb.balanced and not tb.unbalanced_postings
            assert ledger.account_balance(s, ledger.voucher_account(v.id)) == 0
            assert ledger.account_balance(s, ledger.receivable_account("ta")) == 0  # every bill paid
            assert ledger.account_balance(s, ledger.payable_account("telecom")) == 160_000
    finally:
        factory.kw["bind"].dispose()


def test_expired_vouchers_return_their_balance(w: World) -> None:
    old = _issue(w, valid_from="2025-01-01T00:00:00Z", valid_until="2026-02-01T00:00:00Z", amount_cny="70")
    live = _issue(w, amount_cny="30")
    r = CliRunner().invoke(cli, ["vouchers", "expire", "--db", w.url])
    assert r.exit_code == 0 and str(old["id"]) in r.stdout and str(live["id"]) not in r.stdout
    with w.session() as s:
        assert vouchers.get(s, str(old["id"])).balance_cny == Decimal("0.00")
        assert vouchers.get(s, str(live["id"])).balance_cny == Decimal("30.00")
        assert ledger.account_balance(s, ledger.SUBSIDY_FUND) == -10_000 + 7_000  # issued 100, 70 came back
        assert ledger.trial_balance(s).balanced
    again = CliRunner().invoke(cli, ["vouchers", "expire", "--db", w.url])
    assert "expired 0 voucher(s)" in again.stdout


def test_summary_totals_every_voucher_and_only_the_callers(wdb: World) -> None:
    """GET /vouchers:summary adds up every voucher of the filter (not one page), a tenant's own only."""
    w = wdb
    far = "2099-01-01T00:00:00Z"  # "active" is judged at the wall clock's now
    _issue(w, max_share="0.5", centers=["qd-ai"], valid_until=far)  # 1000, half of a bill
    _issue(w, amount_cny="50.00", valid_until=far)
    _issue(
        w, amount_cny="20.00", valid_from="2025-01-01T00:00:00Z", valid_until="2026-02-01T00:00:00Z"
    )  # expired
    _issue(w, tenant="tb", amount_cny="7.00", valid_until=far)
    with w.session() as s:
        _meter(s, "j1", "qd-ai-910b", 2.0)  # 240.00: 120 from the first voucher, then 50 from the second
        billing.create_invoice(
            s, billing.InvoiceCreate(tenant="ta", month="2026-03"), actor="t", now=T0 + 86400
        )
    mine = w.client.get(f"{API}/vouchers:summary", headers=w.h("tenant_user"))
    assert mine.status_code == 200, mine.text
    assert mine.json() == {
        "vouchers": 3, "active": 1, "amount_cny": "1070.00", "balance_cny": "880.00", "redeemed_cny": "170.00",
    }  # fmt: skip
    # the list pages one voucher at a time; the summary is the sum over all of them
    pages = [
        w.client.get(f"{API}/vouchers?limit=1&offset={i}", headers=w.h("tenant_user")).json()
        for i in range(3)
    ]
    assert sum(Decimal(p["items"][0]["redeemed_cny"]) for p in pages) == Decimal("170.00")
    # another tenant asking for ta's totals gets its own
    other = w.client.get(f"{API}/vouchers:summary?tenant=ta", headers=w.h("tenant_user_b")).json()
    assert other["vouchers"] == 1 and other["amount_cny"] == "7.00" and "1070" not in str(other)
    everyone = w.client.get(f"{API}/vouchers:summary", headers=w.h("regulator")).json()
    assert everyone["vouchers"] == 4 and everyone["amount_cny"] == "1077.00" and everyone["active"] == 2
    assert w.client.get(f"{API}/vouchers:summary", headers=w.h("operator")).status_code == 403
