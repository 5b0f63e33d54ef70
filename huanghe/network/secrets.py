"""Back-end credentials as secrets: values stored encrypted at rest, named by pools' ``*_secret`` settings.

A pool never holds a credential itself: its ``backend_settings`` name a secret (``token_secret: slurm-jinan``)
and the platform resolves the name when it builds the back-end (``token_secret`` → ``token``, see
:func:`resolve_settings`). Secrets are created, rotated and deleted only by platform admins
(``/api/v1/secrets``); no answer ever carries a secret's value.

Encryption: Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) with the key in
``HUANGHE_SECRET_KEY`` (44 url-safe base64 characters; make one with :data:`KEYGEN_HINT`; several keys
separated by commas: the first encrypts, all decrypt, for rotating the key). In dev mode
without that variable a key is generated into ``<data dir>/secret.key`` (mode 0600) with a warning; outside
dev mode the server refuses to start while secrets exist and no key is set (:func:`check_key_at_startup`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import ConflictError, FieldError, InvalidError, ServiceError
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.network.models import PoolRow, SecretRow
from huanghe.network.schemas import SecretPublic, SecretPut
from huanghe.paths import data_dir
from huanghe.store.base import Base
from huanghe.store.crud import commit, get_row, page_of

log = logging.getLogger("huanghe.secrets")

#: Environment variable holding the Fernet key (url-safe base64 of 32 random bytes).
KEY_ENV = "HUANGHE_SECRET_KEY"
#: How to make a key.
KEYGEN_HINT = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
#: File name of the key generated in dev mode, under the data directory.
DEV_KEY_FILE = "secret.key"
#: Suffix of the settings keys that name a secret: ``token_secret`` resolves to ``token``.
SECRET_SUFFIX = "_secret"
#: Longest secret value, characters (a JWT or a kubeconfig token fits many times over).
MAX_SECRET_CHARS = 16_384
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class SecretKeyError(ServiceError):
    """No usable encryption key (``HUANGHE_SECRET_KEY`` unset or malformed), or a value that the key cannot
    decrypt; the message says how to fix it and never contains a secret."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError("", message)])


def dev_key_path() -> Path:
    return data_dir() / DEV_KEY_FILE


def _fernet_of(raw: str | bytes, source: str) -> MultiFernet:
    """The key(s) of ``raw``: one key, or several separated by commas (the first encrypts, every one
    decrypts: rotate by prepending a new key, then re-store the secrets, then drop the old key)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        return MultiFernet([Fernet(part.strip()) for part in text.split(",") if part.strip()])
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"{source} is not a Fernet key (44 url-safe base64 characters); generate one with {KEYGEN_HINT}"
        ) from None


def fernet(*, dev_mode: bool | None = None) -> MultiFernet:
    """The key: ``HUANGHE_SECRET_KEY``; else (``dev_mode`` not False: reading, or a dev-mode write) the dev key
    file if it exists; else, with ``dev_mode`` True, a new dev key file (warning logged).
    :class:`SecretKeyError` when there is none: a production server encrypts only with the variable."""
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return _fernet_of(env, KEY_ENV)
    path = dev_key_path()
    if dev_mode is not False and path.is_file():
        return _fernet_of(path.read_bytes(), str(path))
    if dev_mode:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
        log.warning(
            "dev mode: generated the back-end secret key %s (开发模式: 已生成密钥); set %s in production",
            path, KEY_ENV,
        )  # fmt: skip
        return _fernet_of(path.read_bytes(), str(path))
    raise SecretKeyError(
        f"{KEY_ENV} is not set: back-end secrets cannot be encrypted or read; generate a key with {KEYGEN_HINT}"
    )


def check_key_at_startup(session_factory: sessionmaker[Session], *, dev_mode: bool) -> None:
    """Refuse to serve (:class:`SecretKeyError`) outside dev mode when secrets are stored and
    ``HUANGHE_SECRET_KEY`` is not set or is not the key they were encrypted with; in dev mode make sure a key
    exists while secrets do (generated into the data directory; else on the first secret stored)."""
    try:
        with session_factory() as s:
            if not inspect(s.get_bind()).has_table(SecretRow.__tablename__):
                return  # not migrated yet (``huanghe up`` migrates first)
            count = int(s.scalar(select(func.count()).select_from(SecretRow)) or 0)
            sample = s.scalars(select(SecretRow.ciphertext).limit(1)).first()
    except OperationalError:
        log.warning("database unreachable at startup: back-end secret key not checked (数据库不可达)")
        return  # requests answer 503 until the database is back; secrets then fail loudly when read
    if dev_mode:
        if count:
            fernet(dev_mode=True)
        return
    if count and not os.environ.get(KEY_ENV, "").strip():
        raise SecretKeyError(
            f"{count} back-end secret(s) are stored but {KEY_ENV} is not set: set it to the key they were "
            "encrypted with (or run in dev mode)"
        )
    if sample is not None:
        _decrypt(fernet(), sample, "(startup check)")


def _decrypt(key: MultiFernet, ciphertext: str, name: str) -> str:
    try:
        return key.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            f"secret {name!r} cannot be decrypted: {KEY_ENV} is not the key it was stored with"
        ) from None


def _public(row: SecretRow, used_by: Iterable[str] = ()) -> SecretPublic:
    return SecretPublic(
        name=row.name, description=row.description, created_s=row.created_s, updated_s=row.updated_s,
        used_by=sorted(used_by),
    )  # fmt: skip


def secret_names_in(settings: Mapping[str, object]) -> set[str]:
    """The secret names a pool's ``backend_settings`` refer to (values of ``*_secret`` keys)."""
    return {str(v) for k, v in settings.items() if k.endswith(SECRET_SUFFIX) and v}


#: Tables of domains above the network whose rows name secrets in these columns (named, not imported: the
#: network does not import the data services). A storage endpoint names the secrets holding its S3 keys.
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {"storage_endpoints": ("access_key_secret", "secret_key_secret")}


def _users(session: Session) -> dict[str, list[str]]:
    """Secret name → ids of the pools (and ``storage_endpoints:<id>`` of the storage endpoints) naming it."""
    out: dict[str, list[str]] = {}
    for pool_id, settings in session.execute(select(PoolRow.id, PoolRow.backend_settings)):
        for name in secret_names_in(settings or {}):
            out.setdefault(name, []).append(pool_id)
    for table_name, columns in SECRET_COLUMNS.items():
        table = Base.metadata.tables.get(table_name)
        if table is None:  # that domain's models are not loaded in this process: nothing of it can exist
            continue
        for row in session.execute(select(table.c.id, *(table.c[c] for c in columns))):
            for name in {n for n in row[1:] if n}:
                out.setdefault(str(name), []).append(f"{table_name}:{row[0]}")
    return out


def list_secrets(session: Session, *, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0) -> Page[SecretPublic]:
    """Secrets by name, without their values; ``used_by`` lists the pools naming each."""
    users = _users(session)
    return page_of(
        session,
        select(SecretRow),
        (SecretRow.name,),
        limit,
        offset,
        lambda r: _public(r, users.get(r.name, ())),
    )


def get_secret(session: Session, name: str) -> SecretPublic:
    row = get_row(session, SecretRow, name, "secret")
    return _public(row, _users(session).get(name, ()))


def put_secret(
    session: Session, name: str, data: SecretPut, *, dev_mode: bool = False, clock: Clock | None = None
) -> SecretPublic:
    """Create or rotate the secret ``name`` (the value is encrypted before it reaches the database); outside
    ``dev_mode`` only with ``HUANGHE_SECRET_KEY`` (:class:`SecretKeyError` otherwise, answered 400)."""
    value = data.value.get_secret_value()
    problems = [FieldError("value", "must be UTF-8 text without NUL")] if not _storable(value) else []
    if not _storable(data.description) or _CONTROL.search(data.description):
        problems.append(FieldError("description", "must be text without control characters"))
    if problems:
        raise InvalidError(problems)
    now_s = (clock or WallClock()).now_s()
    ciphertext = fernet(dev_mode=dev_mode).encrypt(value.encode()).decode()
    row = session.get(SecretRow, name)
    if row is None:
        row = SecretRow(name=name, created_s=now_s)
        session.add(row)
    row.ciphertext, row.description, row.updated_s = ciphertext, data.description, now_s
    commit(session)
    return _public(row, _users(session).get(name, ()))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _storable(text: str) -> bool:
    """No NUL (PostgreSQL text cannot hold it) and no lone surrogate (not encodable as UTF-8)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def delete_secret(session: Session, name: str) -> None:
    """Delete a secret; refused (409) while a pool or a storage endpoint names it."""
    row = get_row(session, SecretRow, name, "secret")
    pools = _users(session).get(name)
    if pools:
        raise ConflictError([FieldError("name", f"secret {name!r} is used by {sorted(pools)}")])
    session.delete(row)
    commit(session)


def missing_secrets(session: Session, settings: Mapping[str, object], path: str) -> list[FieldError]:
    """Problems for ``*_secret`` settings naming no stored secret (path ``<path>.<key>``)."""
    errors = []
    for key, value in settings.items():
        if key.endswith(SECRET_SUFFIX) and (not value or session.get(SecretRow, str(value)) is None):
            errors.append(FieldError(f"{path}.{key}", f"no secret named {value!r}: create it first"))
    return errors


def resolve_settings(session: Session, settings: Mapping[str, object]) -> dict[str, str]:
    """A pool's ``backend_settings`` ready for its back-end: every ``X_secret: name`` replaced by
    ``X: <decrypted value>``. :class:`SecretKeyError` without a key; an unknown name gives an empty value (the
    back-end then reports the missing credential, without naming the secret)."""
    out = {k: str(v) for k, v in settings.items() if not k.endswith(SECRET_SUFFIX)}
    refs = {k.removesuffix(SECRET_SUFFIX): str(v) for k, v in settings.items() if k.endswith(SECRET_SUFFIX)}
    if not refs:
        return out
    key = fernet()
    for target, name in refs.items():
        row = session.get(SecretRow, name)
        out[target] = _decrypt(key, row.ciphertext, name) if row is not None else ""
    return out


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))
