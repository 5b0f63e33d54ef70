"""The bearer-token principal cache: a client's requests skip the token look-up for a short while; revocation
through the API empties it at once, revocation elsewhere takes effect within the TTL, expiry is never
exceeded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from huanghe.api import authentication
from huanghe.api.authentication import TokenCache
from huanghe.domain.tenancy import Role
from huanghe.tenancy import tokens as auth
from huanghe.tenancy.tokens import Principal
from tests.security_support import world

API = "/api/v1"
P = Principal(name="p", role=Role.ADMIN, token_id=1)


def test_cache_ttl_expiry_and_clear() -> None:
    c = TokenCache(ttl_s=2.0, max_keys=2)
    c.put("hh_a", P, 100.0, None)
    assert c.get("hh_a", 101.9) is P and c.get("hh_a", 102.0) is None
    c.put("hh_b", P, 100.0, 100.5)  # the token expires before the TTL: the entry goes with it
    assert c.get("hh_b", 100.4) is P and c.get("hh_b", 100.5) is None
    c.put("hh_c", P, 100.0, 99.0)  # already expired: not cached
    assert c.get("hh_c", 100.0) is None
    for k in ("hh_1", "hh_2", "hh_3"):
        c.put(k, P, 100.0, None)
    assert c.get("hh_1", 100.0) is None and c.get("hh_3", 100.0) is P  # bounded, oldest out
    c.clear()
    assert c.get("hh_3", 100.0) is None
    assert "hh_3" not in str(c._entries)  # keyed by digest, the secret is not kept


def test_hit_skips_the_lookup_and_revocation_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with world(f"sqlite:///{tmp_path / 'a.db'}") as w:
        r = w.client.post(f"{API}/auth/tokens", json={"name": "tmp", "role": "admin"}, headers=w.h("admin"))
        tid, token = r.json()["id"], r.json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        assert w.client.get(f"{API}/tenants", headers=h).status_code == 200
        calls: list[Any] = []
        real = authentication._identify

        def counting(request: Any) -> Any:
            calls.append(request)
            return real(request)

        monkeypatch.setattr(authentication, "_identify", counting)
        for _ in range(5):
            assert w.client.get(f"{API}/tenants", headers=h).status_code == 200
        assert calls == []  # served from the cache: no look-up, no thread hop
        # revoked behind the API's back (like `huanghe admin revoke-token`): honoured after the TTL
        w.app.state.token_cache.ttl_s = 0.3
        w.app.state.token_cache.clear()
        assert w.client.get(f"{API}/tenants", headers=h).status_code == 200
        with w.session() as s:
            auth.revoke_token(s, tid)
            s.commit()
        time.sleep(0.35)
        assert w.client.get(f"{API}/tenants", headers=h).status_code == 401
        # revoked through the API: at once, even with a long TTL and a warm cache
        w.app.state.token_cache.ttl_s = 60.0
        r = w.client.post(f"{API}/auth/tokens", json={"name": "tmp2", "role": "admin"}, headers=w.h("admin"))
        tid2, h2 = r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}
        assert w.client.get(f"{API}/tenants", headers=h2).status_code == 200
        assert w.client.delete(f"{API}/auth/tokens/{tid2}", headers=w.h("admin")).status_code == 200
        assert w.client.get(f"{API}/tenants", headers=h2).status_code == 401
