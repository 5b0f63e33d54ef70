"""Unprivileged host accounts of tenants, for the local back-end's sandbox.

Every tenant's local jobs run as one account of its own, ``hh-t-<id>-<hash>``: the tenant id lower-cased, every
character outside ``[a-z0-9]`` replaced by ``-``, cut to 16 characters, then ``-`` and the first 8 hex digits
of the SHA-256 of the full id (so two ids that sanitise alike still get two accounts; 30 characters at most,
under the 32 that ``useradd`` allows). A job without a tenant runs as the shared :data:`NOBODY` account.

Accounts are created on first use (``groupadd``/``useradd --system``, no home, no login shell) with the full
hash of the tenant id in their comment (GECOS): an existing account whose comment does not match is refused,
never reused. An account is never root (uid 0) nor the server's own user.

Finding or creating an account takes at most the registry's ``timeout_s`` (the wait for another thread's
creation included, each ``useradd`` limited to what is left), then raises
:class:`~huanghe.backends.protocol.BackendUnavailableError`: the local back-end's submit has a bound
(:attr:`huanghe.backends.local.LocalBackend.submit_bound`).
"""

from __future__ import annotations

import hashlib
import pwd
import re
import subprocess
import threading
import time
from dataclasses import dataclass

from huanghe.backends.protocol import BackendUnavailableError

#: The account of jobs that have no tenant.
NOBODY = "hh-nobody"
_PREFIX = "hh-t-"
_MAX_ID_CHARS = 16
_COMMENT = "huanghe tenant "


@dataclass(frozen=True)
class Account:
    """A host account jobs run as: ``name``, numeric ``uid`` and primary ``gid``."""

    name: str
    uid: int
    gid: int


def _digest(tenant: str) -> str:
    return hashlib.sha256(tenant.encode()).hexdigest()


def account_name(tenant: str | None) -> str:
    """The account name of ``tenant`` (:data:`NOBODY` when it is None or empty); at most 30 characters."""
    if not tenant:
        return NOBODY
    clean = re.sub(r"[^a-z0-9]", "-", tenant.lower())[:_MAX_ID_CHARS].strip("-") or "x"
    return f"{_PREFIX}{clean}-{_digest(tenant)[:8]}"


def _comment(tenant: str | None) -> str:
    return _COMMENT + (_digest(tenant) if tenant else "none")


class AccountRegistry:
    """Finds or creates tenants' accounts; thread-safe, and safe when several processes create at once."""

    def __init__(self, forbidden_uids: frozenset[int], timeout_s: float = 30.0) -> None:
        self._forbidden = forbidden_uids | {0}
        self.timeout_s = timeout_s
        self._cache: dict[str, Account] = {}
        self._lock = threading.Lock()

    def account(self, tenant: str | None) -> Account:
        """The account of ``tenant``, created if missing. Raises :class:`BackendUnavailableError` if it cannot
        be created or if an account of that name exists for something else."""
        key = tenant or ""
        deadline = time.monotonic() + self.timeout_s
        if not self._lock.acquire(timeout=self.timeout_s):
            raise BackendUnavailableError(
                f"local: account of tenant {tenant!r} not ready within {self.timeout_s:g} s (account_timeout_s)"
            )
        try:
            acc = self._cache.get(key)
            if acc is None:
                acc = self._find_or_create(account_name(tenant), _comment(tenant), deadline)
                self._cache[key] = acc
            return acc
        finally:
            self._lock.release()

    def _find_or_create(self, name: str, comment: str, deadline: float) -> Account:
        for attempt in range(20):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    break
                self._create(name, comment, last=attempt == 19, timeout_s=left_s)
                continue
            if entry.pw_gecos != comment:
                raise BackendUnavailableError(
                    f"local: account {name} exists but is not this tenant's (comment {entry.pw_gecos!r}); "
                    "rename or remove it / 账户冲突"
                )
            if entry.pw_uid in self._forbidden:
                raise BackendUnavailableError(f"local: account {name} has a forbidden uid {entry.pw_uid}")
            return Account(name, entry.pw_uid, entry.pw_gid)
        raise BackendUnavailableError(
            f"local: could not create account {name} within {self.timeout_s:g} s (account_timeout_s)"
        )

    @staticmethod
    def _create(name: str, comment: str, *, last: bool, timeout_s: float) -> None:
        cmd = ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", "--comment", comment, name]  # fmt: skip
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendUnavailableError(f"local: useradd failed for {name}: {exc}") from exc
        # 9: the name exists (another process created it); 10: /etc/passwd busy (locked by another useradd)
        if res.returncode in (0, 9):
            return
        if res.returncode == 10 and not last:
            time.sleep(0.05)
            return
        raise BackendUnavailableError(
            f"local: useradd {name} failed ({res.returncode}): {res.stderr.strip()[:200]}"
        )
