"""A voucher programme's eligible sectors are the `算力+` industries (huanghe.domain.industries): the API lists
them (``GET /api/v1/industries``), refuses any other value with a 422 naming the
item (``body.sectors[i]``), admits a tenant whose registered sector falls into one of them, and answers a
programme created before with free-text sectors as it is (matched as written). Attackers first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from huanghe.billing.models import VoucherProgrammeRow
from huanghe.cli.main import app as cli
from huanghe.domain.industries import INDUSTRIES, INDUSTRY_KEYS
from huanghe.regulator import industries as old_path
from huanghe.tenancy.models import TenantRow
from tests.security_support import World, world

API = "/api/v1"
BODY = {"name_zh": "行业测试", "name_en": "sector test", "authority": "test", "basis": "bill", "share": "0.5",
        "fund_cny": "1000"}  # fmt: skip


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 's.db'}") as wd:
        yield wd


def _post(w: World, who: str, **body: object) -> tuple[int, dict[str, object]]:
    r = w.client.post(f"{API}/programmes", json={**BODY, **body}, headers=w.h(who))
    return r.status_code, r.json()


def _apply(w: World, programme: str) -> tuple[int, str]:
    r = w.client.post(f"{API}/programme-applications", headers=w.h("tenant_admin"),
                      json={"programme": programme, "tenant": "ta", "basis_cny": "100"})  # fmt: skip
    return r.status_code, r.text


def test_tenants_and_operators_cannot_create_programmes(w: World) -> None:
    for who in ("tenant_admin", "tenant_user", "operator"):
        status, _ = _post(w, who, id=f"x-{who.replace('_', '-')}", sectors=["finance"])
        assert status == 403, who
    assert w.client.get(f"{API}/programmes", headers=w.h("regulator")).json()["total"] == 0


def test_the_choices_are_the_industries_in_both_languages(w: World) -> None:
    for who in ("regulator", "admin"):
        r = w.client.get(f"{API}/industries", headers=w.h(who))
        assert r.status_code == 200
        assert [(x["key"], x["name_zh"], x["name_en"]) for x in r.json()] == list(INDUSTRIES)
    assert r.json()[0] == {
        "key": "manufacturing",
        "name_zh": "算力+制造",
        "name_en": "Compute + manufacturing",
    }
    # the regulator's old import path is the same table
    assert old_path.INDUSTRY_KEYS is INDUSTRY_KEYS and old_path.industry_of("Fin-Tech") == "finance"


def test_valid_sectors_are_stored_and_an_unknown_one_is_refused_naming_it(w: World) -> None:
    status, p = _post(w, "regulator", id="fin", sectors=["finance", "other"])
    assert status == 201 and p["sectors"] == ["finance", "other"]
    status, err = _post(w, "admin", id="bad", sectors=["finance", "software"])
    assert status == 422
    detail = err["detail"][0]  # type: ignore[index]
    assert detail["path"] == "body.sectors[1]", detail
    assert "software" in detail["message"] and "manufacturing" in detail["message"], detail
    status, err = _post(w, "admin", id="bad2", sectors=["Finance"])  # keys, not names or other spellings
    assert status == 422 and err["detail"][0]["path"] == "body.sectors[0]"  # type: ignore[index]
    assert w.client.get(f"{API}/programmes/bad", headers=w.h("admin")).status_code == 404
    r = w.client.post(f"{API}/programmes", json={"id": "bj", "preset": "beijing-2023", "fund_cny": "100"},
                      headers=w.h("regulator"))  # fmt: skip
    beijing = r.json()
    assert (
        r.status_code == 201
        and beijing["sectors"] == ["manufacturing", "other"]
        and beijing["label"] == "reported"
    )


def test_a_tenant_is_eligible_when_its_sector_falls_into_a_chosen_industry(w: World) -> None:
    assert _post(w, "regulator", id="fin", sectors=["finance"])[0] == 201
    assert _post(w, "regulator", id="mfg", sectors=["manufacturing"])[0] == 201
    status, text = _apply(w, "fin")  # ta is a manufacturing tenant
    assert status == 422 and '"path":"body.tenant"' in text.replace(" ", "") and "行业" in text
    assert _apply(w, "mfg")[0] == 201
    with w.session() as s:  # a registered sector written another way: banking → finance
        s.execute(update(TenantRow).where(TenantRow.id == "ta").values(sector="Banking"))
        s.commit()
    assert _apply(w, "fin")[0] == 201
    assert _apply(w, "mfg")[0] == 422


def test_older_free_text_sectors_are_answered_as_written_and_matched_exactly(w: World) -> None:
    assert _post(w, "regulator", id="old", sectors=["finance"])[0] == 201
    with w.session() as s:  # a row from before: free text, kept as it is (no migration)
        s.execute(
            update(VoucherProgrammeRow).where(VoucherProgrammeRow.id == "old").values(sectors=["software"])
        )
        s.execute(update(TenantRow).where(TenantRow.id == "ta").values(sector="manufacturing"))
        s.commit()
    assert w.client.get(f"{API}/programmes/old", headers=w.h("regulator")).json()["sectors"] == ["software"]
    assert _apply(w, "old")[0] == 422
    with w.session() as s:
        s.execute(update(TenantRow).where(TenantRow.id == "ta").values(sector="software"))
        s.commit()
    assert _apply(w, "old")[0] == 201


def test_cli_refuses_an_unknown_sector(w: World) -> None:
    run = CliRunner().invoke
    bad = run(cli, ["vouchers", "programme", "create", "--id", "x", "--preset", "shandong-2025", "--sector",
                    "software", "--db", w.url])  # fmt: skip
    assert bad.exit_code == 2 and "unknown sector 'software'" in bad.output, bad.output
    ok = run(cli, ["vouchers", "programme", "create", "--id", "y", "--preset", "shandong-2025", "--sector",
                   "ocean", "--db", w.url, "--json"])  # fmt: skip
    assert ok.exit_code == 0 and '"ocean"' in ok.stdout, ok.output
