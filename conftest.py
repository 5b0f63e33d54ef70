"""Repository-wide pytest set-up, loaded before ``tests/conftest.py``.

Tests run in dev mode by default (``HUANGHE_DEV_MODE=1``): authentication is off and no session secret is
required, as for ``make run``. Security tests turn authentication on explicitly with
``Settings(auth_enabled=True, session_secret=...)``.
"""

from __future__ import annotations

import os

os.environ.setdefault("HUANGHE_DEV_MODE", "1")
