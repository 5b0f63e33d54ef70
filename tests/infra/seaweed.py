"""SeaweedFS servers for the tests: real ``weed server`` processes (S3 gateway) on 127.0.0.1, stopped by PID.

``seaweed_servers`` (session fixture in tests/conftest.py) gives two running servers, so that tests can put
endpoints of different centers on different processes and kill one. A test that kills a server restarts it
with :meth:`SeaweedServer.restart` (same data, port and keys) before it ends; buckets are unique per test
(:func:`unique_bucket`) so tests sharing a server never see each other's objects.
"""

from __future__ import annotations

import itertools
import os

from huanghe.data.objects import EndpointAccess, ObjectStore
from huanghe.data.seaweed import SeaweedServer, SeaweedUnavailableError

__all__ = ["SeaweedServer", "SeaweedUnavailableError", "store_on", "unique_bucket"]

_bucket_counter = itertools.count(1)


def unique_bucket(prefix: str = "t") -> str:
    """A bucket name no other test of this run uses (S3 rules: lower case, digits, dashes, 3–63 chars)."""
    return f"{prefix}-{os.getpid()}-{next(_bucket_counter)}"


def store_on(server: SeaweedServer, bucket: str | None = None) -> ObjectStore:
    """An :class:`ObjectStore` on a new bucket of ``server`` (created)."""
    store = ObjectStore(EndpointAccess(server.s3_url, bucket or unique_bucket(), server.access_key,
                                       server.secret_key))  # fmt: skip
    store.ensure_bucket()
    return store
