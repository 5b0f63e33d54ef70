"""The audit record of every successful mutation (method, path, principal, status, SHA-256 of the body), in
the audit trail of :mod:`huanghe.audit.service`, committed BEFORE the answer is sent (on PostgreSQL into the
audit inbox, linked into the hash chain by :mod:`huanghe.audit.chain` shortly after; readers chain it first).

:class:`~huanghe.api.middleware.SecurityMiddleware` opens a :class:`PendingAudit` per mutation. A route that
stores its change in one transaction may append the record in that transaction itself (job submissions do)
and mark it ``recorded``; otherwise the middleware hands it to the group-committing
:class:`~huanghe.audit.service.AuditWriter` (``app.state.audit_writer``) once the answer is known. The
dispatcher records its placement decisions itself, in its own transactions (:mod:`huanghe.jobs.placing`)."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.types import Scope

from huanghe.api.authentication import PRINCIPAL_KEY
from huanghe.audit import service as audit
from huanghe.tenancy.tokens import Principal

log = logging.getLogger("huanghe.api.security")

#: Where the current mutation's :class:`PendingAudit` is kept in the ASGI scope.
AUDIT_KEY = "huanghe.audit"


class PendingAudit:
    """The audit record of the current mutation (``scope[AUDIT_KEY]``). A route that stores its change in
    one transaction may append ``entry(status)`` to the chain in that transaction and then set
    ``recorded``; the middleware then writes nothing more. Payload: method, path, status, body SHA-256."""

    def __init__(self, scope: Scope, body_sha256: str) -> None:
        self.scope = scope
        self.body_sha256 = body_sha256
        self.recorded = False

    def entry(self, status: int) -> audit.Entry:
        principal = self.scope.get(PRINCIPAL_KEY)
        actor = principal.actor if isinstance(principal, Principal) else "anonymous"
        method, path = str(self.scope["method"]), str(self.scope.get("path", ""))
        payload = {"method": method, "path": path, "status": status, "body_sha256": self.body_sha256}
        return audit.Entry(actor, f"http.{method.lower()}", path, payload, time.time())


def pending_audit(scope: Scope) -> PendingAudit | None:
    """The current mutation's :class:`PendingAudit` (None outside :class:`SecurityMiddleware`)."""
    pending = scope.get(AUDIT_KEY)
    return pending if isinstance(pending, PendingAudit) else None


async def write(scope: Scope, entry: audit.Entry) -> None:
    """Commit ``entry`` through the app's audit writer; a failure is logged loudly, never raised (the
    mutation itself is committed and must be answered)."""
    try:
        writer: audit.AuditWriter = scope["app"].state.audit_writer
        await asyncio.wrap_future(writer.submit(entry))
    except Exception:  # the mutation itself is committed: answer it, but say it loudly
        log.exception("audit record of %s failed", entry.subject)
