"""What a reader may see of a job's environment.

Environment values are masked (:data:`MASK`) in every answer unless the reader is the job's own tenant (the
API passes ``viewer_tenant`` from a tenant role's principal): admins, regulators and operators see the
names, never the values. Secret variables, named in the submission's ``secret_env`` or whose name ends in
one of :data:`SECRET_ENV_SUFFIXES`, are masked for the job's own tenant too once submitted. The stored row
keeps the values: the dispatcher hands them to the back-end.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

#: What a masked environment value reads as.
MASK = "***"
#: Env names with one of these endings (any case) are secrets: masked for every reader after submission.
SECRET_ENV_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_KEY", "_CREDENTIALS")


def is_secret_env(name: str, declared: Collection[str] = ()) -> bool:
    """Whether env variable ``name`` is a secret (declared in ``secret_env``, or by its ending)."""
    return name in declared or name.upper().endswith(SECRET_ENV_SUFFIXES)


def visible_spec(spec: dict[str, Any] | None, owner: bool) -> dict[str, Any]:
    """``spec`` (a stored submission) as a reader sees it: env values masked unless ``owner`` (the reader is
    the job's own tenant), secret ones masked for the owner too. The stored dict is not changed."""
    out = dict(spec or {})
    env = out.get("env")
    if isinstance(env, dict) and env:
        declared = set(out.get("secret_env") or ())
        out["env"] = {k: (v if owner and not is_secret_env(k, declared) else MASK) for k, v in env.items()}
    return out
