"""Bounds of every input: the ranges the store can hold and the domain allows, and safe text.

Every number a client sends has a range that fits the database column (64-bit integers, finite floats) and
makes sense for the platform; every string has a length limit. Names (people, tenants, datasets, jobs) are
shown in consoles and reports, so they may not hold control characters (U+0000–U+001F, U+007F–U+009F) or
the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text display differently
from what it is ("Trojan source"). Commands and scripts may hold newlines and tabs but never NUL (no
program can receive it, and PostgreSQL text cannot store it); their size is bounded by
:data:`MAX_COMMAND_BYTES` and a larger one is refused with **413** (error type :data:`TOO_LARGE`).

The checks are compiled once at import (no per-request regex compilation) and cost one ``re.search`` per
string.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

#: pydantic error type of a value over its size limit; the API answers 413 for it (422 for the others).
TOO_LARGE = "too_large"

#: Largest ``command`` or ``script`` of a job, bytes of UTF-8 (256 KiB).
MAX_COMMAND_BYTES = 256 * 1024
#: Longest display name (tenant, user, dataset), characters.
MAX_NAME_CHARS = 200
#: Longest free text label (sector, accelerator), characters.
MAX_LABEL_CHARS = 64
#: Most environment variables of a job; longest name and value (characters).
MAX_ENV_VARS = 100
MAX_ENV_KEY_CHARS = 128
MAX_ENV_VALUE_CHARS = 32 * 1024
#: Most datasets one job may read.
MAX_JOB_DATASETS = 100

# --- numeric ranges (documented in docs/security.md, "Input bounds") ----------------------------------------
MAX_NODES = 100_000  # nodes of one gang
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
MAX_CPUS = 4096.0  # cores per node
MAX_GPUS = 64.0  # GPUs per node
MAX_MEM_GB = 65_536.0  # memory per node, GB (64 TB)
MAX_DURATION_S = 366 * 86_400.0  # run times, time limits and deadlines: one (leap) year, seconds
MAX_LATENCY_MS = 3_600_000.0  # one hour, milliseconds
MAX_DATA_GB = 1e8  # 100 PB, GB
MAX_PRICE_CNY_PER_HOUR = 1e7  # CNY per hour

_CONTROL = "\x00-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE_NAME = re.compile(f"[{_CONTROL}{_BIDI}]")
_UNSAFE_TEXT = re.compile(f"[\x00{_BIDI}]")  # commands and scripts: newlines and tabs allowed
#: Environment variable names: POSIX shell names.
ENV_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def check_name(value: str) -> str:
    """A display name: no control or bidi-override character (ValueError naming the first one)."""
    bad = _UNSAFE_NAME.search(value)
    if bad is not None:
        raise ValueError(
            f"must not contain control or bidi-override characters (found {_describe(bad.group())})"
        )
    return value


def check_text(value: str) -> str:
    """Text run or shown verbatim (env values): no NUL and no bidi override (newlines and tabs allowed)."""
    bad = _UNSAFE_TEXT.search(value)
    if bad is not None:
        raise ValueError(f"must not contain NUL or bidi-override characters (found {_describe(bad.group())})")
    return value


def check_command(value: str) -> str:
    """A command or script: at most :data:`MAX_COMMAND_BYTES` of UTF-8 (error :data:`TOO_LARGE`), then
    :func:`check_text`."""
    if len(value) * 4 > MAX_COMMAND_BYTES and len(value.encode()) > MAX_COMMAND_BYTES:
        raise PydanticCustomError(
            TOO_LARGE,
            "larger than the limit of {limit} bytes ({limit_kib} KiB)",
            {"limit": MAX_COMMAND_BYTES, "limit_kib": MAX_COMMAND_BYTES // 1024},
        )
    return check_text(value)


#: A required display name, 1..:data:`MAX_NAME_CHARS` safe characters.
SafeName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(check_name)]
#: A short optional label ('' allowed), safe characters.
SafeLabel = Annotated[str, Field(max_length=MAX_LABEL_CHARS), AfterValidator(check_name)]
#: A command or a script (see :func:`check_command`).
CommandText = Annotated[
    str,
    Field(description=f"at most {MAX_COMMAND_BYTES} bytes of UTF-8 (413 above); no NUL, no bidi override"),
    AfterValidator(check_command),
]
#: An environment variable's name and value.
EnvKey = Annotated[str, Field(pattern=ENV_KEY_PATTERN)]
EnvValue = Annotated[str, Field(max_length=MAX_ENV_VALUE_CHARS), AfterValidator(check_text)]
