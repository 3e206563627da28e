"""JSON in and out of the session tables.

The engine-level loader never raises: a value that is not JSON comes back as
:class:`BadJson`, so the row that holds it can be named in the error (or skipped)
instead of a bare ``JSONDecodeError`` escaping from deep inside a fetch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Optional

from ..errors import CorruptRowError


class BadJson(str):
    """Text that failed to decode as JSON; ``error`` says why."""

    error: str = ""


# NaN and ±Infinity: JSON has no such numbers. agno_nb stores them as null (see ``dumps``),
# and reads the non-standard NaN / Infinity / -Infinity tokens that other writers (Agno on
# SQLite, Python's json module) leave in a file as null too, so both read back the same.
_DECODER = json.JSONDecoder(parse_constant=lambda _token: None)


def loads(text: Any) -> Any:
    """``json.loads``, with the NaN / Infinity / -Infinity tokens read as None."""
    if isinstance(text, (bytes, bytearray)):  # psycopg hands JSONB over as bytes
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if not isinstance(text, str):
        raise TypeError(f"the JSON object must be str or bytes, not {type(text).__name__}")
    return _DECODER.decode(text)


def lenient_loads(text: Any) -> Any:
    try:
        return loads(text)
    except (ValueError, TypeError) as exc:
        bad = BadJson(text if isinstance(text, str) else repr(text))
        bad.error = str(exc)
        return bad


def finite(value: Any) -> Any:
    """``value`` with every NaN and ±Infinity float (at any depth) replaced by None.

    Keys that are such floats become the text Python's json module would give them.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {(json.dumps(k) if isinstance(k, float) and not math.isfinite(k) else k): finite(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Standard JSON text for a JSON column, on every backend.

    NaN and ±Infinity are written as ``null``: PostgreSQL's JSONB refuses them (and with
    them the whole run), other JSON readers refuse the non-standard tokens, and every
    float Agno keeps (cost, duration, time_to_first_token, ...) is optional, so Agno reads
    null back as "not measured". Non-JSON values (datetimes, enums) become text rather
    than failing a run's write.
    """
    try:
        # Agno writes ASCII-escaped JSON. The common case, all numbers finite, costs one pass.
        return json.dumps(value, default=str, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
    return json.dumps(finite(value), default=str, allow_nan=False)


_SUSPECT = re.compile(r"\\u(?:0000|d[89a-f])", re.IGNORECASE)  # NUL or a surrogate, as JSON escapes
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # in a Python str any surrogate is a lone one
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: Any, nul: bool = True) -> Any:
    """``value`` with lone surrogates (and, with ``nul``, NUL) replaced by U+FFFD, in every string and key."""
    if isinstance(value, str):
        return (_UNSTORABLE if nul else _SURROGATE).sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(k, nul): storable(v, nul) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, nul) for v in value]
    return value


def dumps_pg(value: Any) -> str:
    """JSON for a PostgreSQL JSONB column.

    JSONB cannot hold the NUL character or a lone UTF-16 surrogate (the server refuses
    the whole row). Rather than lose the run, each such character is written as U+FFFD.
    SQLite keeps them as they are.
    """
    text = dumps(value)
    if _SUSPECT.search(text) is None:
        return text
    # Decode the JSON first: two lone surrogates that form a pair in the JSON text are one
    # character to every reader, and only surrogates still alone after that are replaced.
    return dumps(storable(loads(text)))


def decode(value: Any, *, table: str, column: str, session_id: Optional[str] = None,
           run_id: Optional[str] = None) -> Any:
    """Decode a JSON column value, unwrapping Agno 2.x's double encoding on SQLite."""
    while isinstance(value, str):
        if isinstance(value, BadJson):
            raise CorruptRowError(f"invalid JSON: {value.error}", table=table, column=column,
                                  session_id=session_id, run_id=run_id)
        value = lenient_loads(value)
        if isinstance(value, str) and not isinstance(value, BadJson):
            # A JSON string holding JSON (2.x double encoding): go round again. A string
            # that is not JSON text is a wrong shape for these columns.
            stripped = value.lstrip()
            if not stripped.startswith(("{", "[")) and stripped not in ("null",):
                raise CorruptRowError("expected a JSON object or list, got a string", table=table,
                                      column=column, session_id=session_id, run_id=run_id)
    return value


def expect(value: Any, kind: type, *, table: str, column: str, session_id: Optional[str] = None,
           run_id: Optional[str] = None) -> Any:
    """Check a decoded value's shape (dict or list); None passes."""
    if value is None or isinstance(value, kind):
        return value
    raise CorruptRowError(
        f"expected a JSON {'object' if kind is dict else 'list'}, got {type(value).__name__}",
        table=table, column=column, session_id=session_id, run_id=run_id,
    )
