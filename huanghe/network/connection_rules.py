"""What a pool's ``backend_settings`` may say when written through the API (pools, centers, ``PUT /topology``).

* **Connection URLs** (``rest_url``, ``address``, ``host``, ``url`` and any ``*_url``): scheme ``http`` or
  ``https``, a host, no user-info; never a link-local address (169.254.0.0/16, fe80::/10), a cloud metadata
  address or name (169.254.169.254, 100.100.100.200, fd00:ec2::254, ``metadata.google.internal``...), an
  unspecified or multicast address; loopback (127.0.0.0/8, ::1, ``localhost``) only when the platform admin
  sets ``HUANGHE_BACKEND_ALLOW_LOOPBACK=1``. Names are not resolved here (the check is on the text).
* **Credentials** are never literal: a secret-like key (``token``, ``auth_token``, ``password``...) is refused
  — store the value with ``PUT /api/v1/secrets/{name}`` and name it (``token_secret: <name>``).
* **Files** (``*_file``, e.g. Slurm's ``token_file``, and ``kubeconfig``) are refused unless ``HUANGHE_CREDENTIALS_DIR`` names a
  directory and the path lies inside it (after resolving ``..`` and links).

Centers' ``exporters`` (Prometheus URLs the platform scrapes) obey the same URL rule when written.

Every problem is a :class:`~huanghe.core.errors.FieldError` at ``<path>.<key>`` (answered 422). Only a
platform admin may write ``backend`` and ``backend_settings`` at all (the policy table answers 403 to others).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from huanghe.core.errors import FieldError

#: ``1`` lets connection URLs point at loopback (a back-end on the API host itself).
ALLOW_LOOPBACK_ENV = "HUANGHE_BACKEND_ALLOW_LOOPBACK"
#: The one directory under which ``*_file`` settings may point (unset: no file is accepted from the API).
CREDENTIALS_DIR_ENV = "HUANGHE_CREDENTIALS_DIR"

URL_KEYS = frozenset({"rest_url", "address", "host", "url"})
#: Keys naming a file on the platform's host besides ``*_file`` (a kubeconfig holds credentials).
FILE_KEYS = frozenset({"kubeconfig"})
#: Keys whose values are credentials: never written literally through the API.
LITERAL_SECRET = re.compile(
    r"^(?!.*_(file|secret)$).*(token|password|passwd|secret|api_?key|access_?key|credential)"
)
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal", "instance-data",
    "instance-data.ec2.internal",
})  # fmt: skip
METADATA_IPS = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def loopback_allowed() -> bool:
    return _truthy(ALLOW_LOOPBACK_ENV)


def url_problem(value: str, *, allow_loopback: bool) -> str | None:
    """Why ``value`` may not be a connection URL, or None when it may."""
    try:
        parts = urlsplit(value.strip())
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "scheme must be http or https"
    if not host:
        return "the URL names no host"
    if parts.username is not None or parts.password is not None:
        return "no user or password in the URL: name a secret instead"
    if host in METADATA_HOSTS:
        return "cloud metadata addresses are not allowed"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip is not None:
        if ip in METADATA_IPS:
            return "cloud metadata addresses are not allowed"
        if ip.is_link_local:
            return "link-local addresses (169.254.0.0/16, fe80::/10) are not allowed"
        if ip.is_unspecified or ip.is_multicast:
            return "unspecified and multicast addresses are not allowed"
    is_loopback = (ip is not None and ip.is_loopback) or host == "localhost" or host.endswith(".localhost")
    if is_loopback and not allow_loopback:
        return f"loopback addresses are not allowed (the platform admin may set {ALLOW_LOOPBACK_ENV}=1)"
    return None


def _file_problem(value: str) -> str | None:
    root = os.environ.get(CREDENTIALS_DIR_ENV, "").strip()
    hint = "store the credential as a secret (PUT /api/v1/secrets/{name}) and name it with a *_secret key"
    if not root:
        return f"files are not accepted from the API; {hint}"
    base = Path(root).resolve()
    try:
        Path(base, value).resolve().relative_to(base)
    except ValueError:
        return f"the file must lie in the credentials directory {CREDENTIALS_DIR_ENV}; {hint}"
    return None


def settings_problems(settings: Mapping[str, object], path: str = "backend_settings") -> list[FieldError]:
    """Every reason the API refuses ``settings`` (empty: accepted). Messages never repeat a value."""
    allow_loopback = loopback_allowed()
    errors = []
    for key, raw in settings.items():
        value, where = str(raw), f"{path}.{key}"
        if key in URL_KEYS or key.endswith("_url"):
            problem = url_problem(value, allow_loopback=allow_loopback) if value.strip() else None
        elif key.endswith("_file") or key in FILE_KEYS:
            problem = _file_problem(value) if value.strip() else None
        elif LITERAL_SECRET.match(key) and value.strip():
            problem = f"credentials are not accepted in clear: store it as a secret and set {key}_secret"
        else:
            problem = None
        if problem:
            errors.append(FieldError(where, problem))
    return errors


def exporter_problems(urls: list[str], path: str = "exporters") -> list[FieldError]:
    """A center's Prometheus exporter URLs (the platform scrapes them) obey the same URL rule."""
    allow_loopback = loopback_allowed()
    errors = []
    for i, url in enumerate(urls):
        problem = url_problem(url, allow_loopback=allow_loopback)
        if problem:
            errors.append(FieldError(f"{path}[{i}]", problem))
    return errors
