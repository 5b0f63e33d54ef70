"""Leader election: exactly one holder of a named role (a background loop) per database, whatever the number
of API replicas. Each role (``scheduler``, ``data``, ...) has its own lock or lease.

* PostgreSQL: ``pg_try_advisory_lock(key of the name)`` on a dedicated connection held for as long as the process leads.
  When the leader dies its connection closes and PostgreSQL releases the lock; another replica's next
  ``try_acquire`` gets it. The leader checks its connection on every call (a lost connection = lost lead).
* Any other database (SQLite): a lease row in ``leader_lease`` (name, holder, expires_s). The holder renews it
  on every call; another process takes it only after it expired (``ttl_s`` without renewal), so a new leader
  takes over at most ``ttl_s`` + one loop interval after the old one died.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import Clock, WallClock
from huanghe.store.leases import LeaderLeaseRow

log = logging.getLogger("huanghe.leader")

#: Advisory lock key of the scheduler role (any constant 64-bit number; "HUANGHE1" in ASCII).
ADVISORY_KEY = 0x4855414E47484531


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key of role ``name``: :data:`ADVISORY_KEY` for ``scheduler`` (unchanged),
    else a stable 63-bit hash of the name."""
    if name == "scheduler":
        return ADVISORY_KEY
    return int.from_bytes(hashlib.sha256(f"huanghe:{name}".encode()).digest()[:8], "big") & 0x7FFFFFFFFFFFFFFF


class DeposedError(RuntimeError):
    """A write of a process that no longer leads its role (its fencing epoch is not the lease's)."""


class FencedSession(Session):
    """A session whose commit first checks the fencing epoch of the elector in ``info["fence"]``
    (:meth:`LeaderElector.check_fence`); a deposed leader's commit is rolled back and raises
    :class:`DeposedError`."""

    def commit(self) -> None:
        fence = self.info.get("fence")
        if fence is not None and (self.in_transaction() or self.new or self.dirty or self.deleted):
            try:
                fence.check_fence(self)
            except DeposedError as exc:
                log.warning("%s", exc)
                self.rollback()
                raise
        super().commit()


def holder_id() -> str:
    """Who we are, for the lease row and logs: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeaderElector:
    """``try_acquire()`` → True while this process is the leader of ``name``. Thread: one caller at a time.
    The SQLite lease runs on ``clock`` (epoch seconds; default: the wall clock)."""

    def __init__(
        self,
        engine: Engine,
        name: str = "scheduler",
        ttl_s: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.ttl_s = ttl_s
        self.clock = clock or WallClock()
        self.holder = holder_id()
        self.is_leader = False
        #: the fencing epoch this process won the lead with (None while it does not lead)
        self.epoch: int | None = None
        self._conn: Connection | None = None
        self._pg = engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """Become or stay leader if possible; returns whether we lead now. Never raises on DB errors."""
        try:
            self.is_leader = self._pg_acquire() if self._pg else self._lease_acquire()
        except SQLAlchemyError as exc:
            log.warning("leader election failed (选主失败): %s", exc)
            self._drop_conn()
            self.is_leader = False
        if not self.is_leader:
            self.epoch = None
        return self.is_leader

    # -- fencing ---------------------------------------------------------------------------------------
    def check_fence(self, session: Session) -> None:
        """In ``session``'s transaction: refuse (:class:`DeposedError`) unless this process still holds the
        epoch it won. The row is written (a no-op), so on PostgreSQL the check holds the lease row until the
        transaction ends and a new leader's epoch bump waits for it, or it sees the bump and is refused."""
        if self.epoch is None:
            raise DeposedError(
                f"{self.holder} does not lead {self.name!r}: write refused (非主节点，写入被拒绝)"
            )
        ok = session.execute(
            update(LeaderLeaseRow)
            .where(LeaderLeaseRow.name == self.name, LeaderLeaseRow.epoch == self.epoch)
            .values(epoch=LeaderLeaseRow.epoch)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not ok:
            self.is_leader, self.epoch = False, None
            raise DeposedError(f"{self.holder} was deposed as leader of {self.name!r}: its write is refused "
                               "(已被取代，写入被拒绝)")  # fmt: skip

    def fenced(self, factory: sessionmaker[Session]) -> sessionmaker[Session]:
        """Sessions like ``factory``'s whose every commit is fenced by :meth:`check_fence`: a leader that lost
        the lead (a long pause, a cut connection) cannot commit what it decided while it still led."""
        return sessionmaker(bind=factory.kw["bind"], class_=FencedSession, expire_on_commit=False,
                            autoflush=False, info={"fence": self})  # fmt: skip

    # -- PostgreSQL ------------------------------------------------------------------------------------
    def _pg_acquire(self) -> bool:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self.is_leader:
            self._conn.execute(text("SELECT 1"))  # the lock lives as long as this connection
            return True
        key = advisory_key(self.name)
        if not self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            return False
        now_s = self.clock.now_s()
        self.epoch = int(
            self._conn.execute(
                pg_insert(LeaderLeaseRow)
                .values(name=self.name, holder=self.holder, expires_s=now_s, acquired_s=now_s, epoch=1)
                .on_conflict_do_update(
                    index_elements=["name"],
                    set_={"holder": self.holder, "acquired_s": now_s, "epoch": LeaderLeaseRow.epoch + 1},
                )
                .returning(LeaderLeaseRow.epoch)
            ).scalar_one()
        )
        return True

    def _drop_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None

    # -- lease row -------------------------------------------------------------------------------------
    def _lease_acquire(self) -> bool:
        now_s = self.clock.now_s()
        row = LeaderLeaseRow
        with self.engine.begin() as conn:
            renewed = (
                self.is_leader
                and self.epoch is not None
                and conn.execute(  # renew what we hold, at our epoch
                    update(row)
                    .where(row.name == self.name, row.holder == self.holder, row.epoch == self.epoch)
                    .values(expires_s=now_s + self.ttl_s)
                ).rowcount
            )
            if renewed:
                return True
            took = conn.execute(  # take an expired (or our own stale) lease: a new epoch
                update(row)
                .where(row.name == self.name, (row.expires_s < now_s) | (row.holder == self.holder))
                .values(
                    holder=self.holder, expires_s=now_s + self.ttl_s, acquired_s=now_s, epoch=row.epoch + 1
                )
            ).rowcount
            if took:
                self.epoch = int(conn.execute(select(row.epoch).where(row.name == self.name)).scalar_one())
                return True
            exists = conn.execute(select(row.name).where(row.name == self.name)).first()
        if exists:
            return False
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(row).values(name=self.name, holder=self.holder, expires_s=now_s + self.ttl_s,
                                       acquired_s=now_s, epoch=1)
                )  # fmt: skip
        except IntegrityError:
            return False
        self.epoch = 1
        return True

    def release(self) -> None:
        """Give the lead up (on a clean shutdown), so another replica need not wait for the lease to expire."""
        try:
            if self._pg:
                if self._conn is not None and self.is_leader:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(self.name)})
            elif self.is_leader:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(LeaderLeaseRow)
                        .where(LeaderLeaseRow.name == self.name, LeaderLeaseRow.holder == self.holder)
                        .values(expires_s=0.0)
                    )
        except SQLAlchemyError as exc:
            log.warning("releasing the lead failed: %s", exc)
        finally:
            self.is_leader = False
            if self._pg:
                self._drop_conn()


def current_leader(engine: Engine, name: str = "scheduler") -> dict[str, object] | None:
    """The lease row (SQLite) or whether the advisory lock is held (PostgreSQL), for the API."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            held = conn.execute(
                text("SELECT pid FROM pg_locks WHERE locktype='advisory' AND objid=:lo AND granted"),
                {"lo": advisory_key(name) & 0xFFFFFFFF},
            ).first()
            return {"name": name, "held": held is not None, "backend_pid": held[0] if held else None}
        row = conn.execute(select(LeaderLeaseRow).where(LeaderLeaseRow.name == name)).first()
        if row is None:
            return None
        return {"name": name, "holder": row.holder, "expires_s": row.expires_s, "acquired_s": row.acquired_s}
