"""A voucher programme's fund is never overspent under concurrency, on the real PostgreSQL: threads and
processes grant, redeem and revoke at once, and afterwards every fen is accounted for (fund, grants, returns,
voucher balances, redemptions, the ledger). The guard is the database's: ONE conditional UPDATE (``remaining
>= amount``) per grant and the CHECK on ``remaining_fen``, proven first without any row lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing import get_context

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.billing import ledger, programme_funds, programmes, vouchers
from huanghe.billing.models import (
    ProgrammeApplicationRow,
    ProgrammeRedemptionRow,
    VoucherProgrammeRow,
    VoucherRow,
)
from huanghe.billing.programme_schemas import ApplicationCreate, ProgrammeCreate, Review
from huanghe.core.errors import ConflictError
from huanghe.store.db import make_session_factory, normalize_url
from huanghe.store.migrate import migrate
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests.security_support import seed

pytestmark = pytest.mark.postgres
TENANTS = [f"t{i:02d}" for i in range(12)]


@pytest.fixture
def factory(fresh_postgres_url: str) -> Iterator[sessionmaker[Session]]:
    migrate(fresh_postgres_url)
    # one connection per thread at most (the default pool of 15 would make threads queue for connections)
    engine = create_engine(normalize_url(fresh_postgres_url), pool_size=40, max_overflow=0, pool_timeout=120)
    f: sessionmaker[Session] = make_session_factory(engine)
    with f() as s:
        seed(s)
        for t in TENANTS:
            tenancy_svc.create_tenant(s, TenantCreate(id=t, name=t, sector="manufacturing"))
    try:
        yield f
    finally:
        f.kw["bind"].dispose()


def _programme(s: Session, pid: str, fund_cny: str) -> None:
    body = ProgrammeCreate(id=pid, name_zh="并发", name_en="race", authority="test", basis="bill",
                           share=Decimal(1), fund_cny=Decimal(fund_cny))  # fmt: skip
    programmes.create(s, body, by="reg")


def test_the_conditional_update_alone_never_overspends(factory: sessionmaker[Session]) -> None:
    """32 threads take 7.00 CNY at a time from a 1,000.00 CNY fund, with no lock but the UPDATE's own."""
    with factory() as s:
        _programme(s, "raw", "1000")
    barrier, taken, errors = threading.Barrier(32), [0] * 32, []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with factory() as s:
                    if programme_funds.take(s, "raw", 700):
                        taken[i] += 700
                    s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with factory() as s:
        row = s.get(VoucherProgrammeRow, "raw")
        assert row is not None
        assert sum(taken) == 142 * 700 == row.fund_fen - row.remaining_fen  # 224,000 fen asked of 100,000
        assert row.remaining_fen == 600


def _approve_each(
    factory: sessionmaker[Session], ids: list[str], by: str, out: list[tuple[str, str]]
) -> None:
    """Approve each application in its own session, appending (id, 'granted' | 'conflict: …') to ``out`` as
    it is decided (other threads read ``out`` meanwhile)."""
    for app_id in ids:
        with factory() as s:
            try:
                out.append((app_id, programmes.review(s, app_id, Review(decision="approve"), by=by).status))
            except ConflictError as exc:
                out.append((app_id, f"conflict: {exc}"))


def _review_slice(url: str, ids: list[str], start_at: float) -> list[tuple[str, str]]:
    """In a separate process: approve each application; (id, 'granted' | 'conflict: …')."""
    f = make_session_factory(url)
    out: list[tuple[str, str]] = []
    time.sleep(max(0.0, start_at - time.time()))
    try:
        _approve_each(f, ids, "p", out)
    finally:
        f.kw["bind"].dispose()
    return out


def test_grants_redemptions_and_returns_at_once_never_overspend(
    factory: sessionmaker[Session], fresh_postgres_url: str
) -> None:
    """36 applications of 1,000 CNY each against a 5,000 CNY fund, approved by 8 threads and 2 processes,
    while 6 threads pay bills with the grants, one thread revokes 4 grants (money back to the fund) and one
    reviews granted applications again (refused)."""
    with factory() as s:
        _programme(s, "race", "5000")
        apps = [
            programmes.apply(
                s, ApplicationCreate(programme="race", tenant=t, basis_cny=Decimal(1000)), by=t
            ).id
            for _ in range(3)
            for t in TENANTS
        ]
    start_at = time.time() + 6.0  # processes need a few seconds to start
    results: list[tuple[str, str]] = []
    paid: list[tuple[int, int]] = []
    revoked: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reviewer(ids: list[str]) -> None:
        try:
            time.sleep(max(0.0, start_at - time.time()))
            _approve_each(factory, ids, "r", results)
        except BaseException as exc:
            errors.append(exc)

    def redeemer(k: int) -> None:
        try:
            time.sleep(max(0.0, start_at - time.time()))
            rounds = 0
            while not stop.is_set() or rounds < 24:
                tenant = TENANTS[(k + rounds) % len(TENANTS)]
                with factory() as s:
                    line = vouchers.BillLine("qd-ai", "qd-ai-910b", 30_000, gpu_hours=2.0, node_hours=0.25)
                    memo = f"bill {k}-{rounds}"
                    ledger.transfer(
                        s, memo, ledger.receivable_account(tenant), ledger.payable_account("telecom"), 30_000
                    )
                    paid.append(vouchers.pay_bill(s, tenant_id=tenant, lines=[line], memo=memo))
                    s.commit()
                rounds += 1
        except BaseException as exc:
            errors.append(exc)

    def rereviewer() -> None:
        """Reviews granted applications again (409) while their vouchers are revoked: no deadlock."""
        try:
            time.sleep(max(0.0, start_at - time.time()))
            while not stop.is_set():
                for app_id in [a for a, status in list(results) if status == "granted"]:
                    with factory() as s:
                        try:
                            programmes.review(s, app_id, Review(decision="reject"), by="again")
                            errors.append(AssertionError(f"{app_id} reviewed twice"))
                        except ConflictError:
                            pass
                time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)

    def revoker() -> None:
        try:
            time.sleep(max(0.0, start_at - time.time()))
            while len(revoked) < 4 and not (stop.is_set() and revoked):  # 4 grants back to the fund
                with factory() as s:
                    ids = s.scalars(select(VoucherRow.id).where(VoucherRow.revoked_s.is_(None))).all()
                time.sleep(0.1)  # let the redeemers spend some of them first
                for vid in ids[: 4 - len(revoked)]:
                    with factory() as s:
                        vouchers.revoke(s, vid, by="r")
                    revoked.append(vid)
        except BaseException as exc:
            errors.append(exc)

    in_threads, in_processes = apps[:24], apps[24:]
    threads = [threading.Thread(target=reviewer, args=(in_threads[i::8],)) for i in range(8)]
    threads += [threading.Thread(target=redeemer, args=(k,)) for k in range(6)]
    threads += [threading.Thread(target=revoker), threading.Thread(target=rereviewer)]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_review_slice, fresh_postgres_url, in_processes[i::2], start_at) for i in range(2)
        ]
        for t in threads:
            t.start()
        for f in futures:
            results.extend(f.result(timeout=300))
    for t in threads[:8]:
        t.join(300)
    stop.set()
    for t in threads[8:]:
        t.join(300)
    assert not errors, errors
    assert sorted(a for a, _ in results) == sorted(apps)  # every application reviewed once
    granted_ids = {a for a, status in results if status == "granted"}
    assert all(
        "资金余额" in status or "无可发放额度" in status for _, status in results if status != "granted"
    )
    assert len(granted_ids) >= 5 and revoked, "the race must grant the whole fund and return some of it"

    with factory() as s:
        prog = s.get(VoucherProgrammeRow, "race")
        assert prog is not None and 0 <= prog.remaining_fen <= prog.fund_fen
        rows = s.scalars(
            select(ProgrammeApplicationRow).where(ProgrammeApplicationRow.programme_id == "race")
        ).all()
        granted = sum(r.granted_fen for r in rows)
        returned = sum(r.returned_fen for r in rows)
        assert {r.id for r in rows if r.status == "granted"} == granted_ids
        assert granted - returned == prog.fund_fen - prog.remaining_fen <= prog.fund_fen  # never overspent
        assert granted >= prog.fund_fen  # 36,000 CNY asked of 5,000 (+ at most 4,000 returned): all granted
        redeemed = 0
        for r in rows:
            if r.voucher_id is None:
                continue
            v = s.get(VoucherRow, r.voucher_id)
            assert v is not None and v.amount_fen == r.granted_fen and v.balance_fen >= 0
            spent = s.scalar(
                select(func.coalesce(func.sum(ProgrammeRedemptionRow.paid_fen), 0)).where(
                    ProgrammeRedemptionRow.voucher_id == v.id
                )
            )
            assert v.amount_fen == int(spent or 0) + v.balance_fen + r.returned_fen, (
                v.id
            )  # every fen accounted
            assert ledger.account_balance(s, ledger.voucher_account(v.id)) == v.balance_fen
            redeemed += int(spent or 0)
        assert redeemed == sum(p[0] for p in paid) > 0  # what the bills say the vouchers paid
        assert ledger.account_balance(s, programme_funds.fund_account("race")) == prog.remaining_fen
        tb = ledger.trial_balance(s)
        assert tb.balanced and not tb.unbalanced_postings
        for tenant_id in TENANTS:
            assert ledger.account_balance(s, ledger.receivable_account(tenant_id)) == 0  # bills fully paid
