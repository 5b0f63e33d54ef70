"""The HTTP application: the composition root (:mod:`huanghe.api.app`), shared dependencies, the one error
mapping and the security layer split by concern (authentication, authorisation, CSRF, limits, redaction,
audit of mutations). Domain routers live in their domain packages and are mounted under :data:`API_PREFIX`.

This module imports nothing, so clients may read :data:`API_PREFIX` without loading FastAPI.
"""

#: The one prefix of every domain route (``/api/v1/jobs``, ``/api/v1/centers`` ...), spelled here only.
API_PREFIX = "/api/v1"
