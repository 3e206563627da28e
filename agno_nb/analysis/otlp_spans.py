"""Reading span files: OTLP/JSON lines and the OpenTelemetry SDK's JSON span exports.

Two shapes are read, mixed freely in one file or folder:

* OTLP/JSON, as the OpenTelemetry Collector's file exporter writes it: one
  ``ExportTraceServiceRequest`` per line (``resourceSpans`` → ``scopeSpans`` → ``spans``,
  attributes as ``{key, value: {stringValue|intValue|...}}``). Ids in hex, as the OTLP/JSON
  spec says, or in base64, as protobuf's own JSON mapping writes them.
* The SDK's JSON of one span (``ReadableSpan.to_json()``, what ``ConsoleSpanExporter``
  prints): ``{"name", "context": {"trace_id": "0x…", "span_id": "0x…"}, "parent_id",
  "start_time": ISO, "attributes": {plain values}, ...}``, one per line, pretty-printed one
  after another, or a JSON list of them.

Everything becomes a :class:`Span` with plain Python attribute values. What cannot be read
is reported as a :class:`Problem` naming the file and line, never raised.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

SUFFIXES = (".jsonl", ".json", ".ndjson")
_KIND_NAMES = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_WS = re.compile(r"\s*")


@dataclass
class Span:
    """One span, whatever file shape it came from."""

    trace_id: str  # 32 hex digits
    span_id: str   # 16 hex digits
    parent_id: Optional[str]
    name: str
    kind: str      # INTERNAL, CLIENT, ...
    start: Optional[float]  # Unix seconds
    end: Optional[float]
    error: bool
    attrs: Dict[str, Any]
    events: List[Tuple[str, Optional[float], Dict[str, Any]]] = field(default_factory=list)
    resource: Dict[str, Any] = field(default_factory=dict)
    where: str = ""  # file:line, for messages
    order: int = 0   # start time in nanoseconds: sorts spans closer than a float of seconds can
    end_order: int = 0

    @property
    def duration(self) -> Optional[float]:
        if self.start is None or self.end is None:
            return None
        return round((self.end_order - self.order) / 1e9, 6) if self.order else round(self.end - self.start, 6)


@dataclass
class Problem:
    """Something in a file that is not a readable span."""

    where: str
    error: str


def trace_files(path: Path) -> List[Path]:
    """The span files at ``path``: the file itself, or the JSON files of a folder (sorted)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def read_spans(files: List[Path]) -> Tuple[List[Span], List[Problem]]:
    spans: List[Span] = []
    problems: List[Problem] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            problems.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
            continue
        for line, doc in _documents(text, path, problems):
            _collect(doc, f"{path}:{line}", spans, problems)
    return spans, problems


def _documents(text: str, path: Path, problems: List[Problem]) -> Iterator[Tuple[int, Any]]:
    """The JSON values of ``text`` with their first line: JSON lines, or values one after
    another (pretty-printed). After a value that does not parse, reading goes on at the
    next line that starts a value at its first column."""
    decoder = json.JSONDecoder()
    pos, n, line, counted = 0, len(text), 1, 0
    while True:
        pos = _WS.match(text, pos).end()
        if pos >= n:
            return
        line += text.count("\n", counted, pos)  # counted from the last value on, not from the start
        counted = pos
        try:
            doc, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            problems.append(Problem(f"{path}:{line}", f"not JSON ({exc.msg})"))
            nxt = re.compile(r"\n[\[{]").search(text, pos)
            if nxt is None:
                return
            pos = nxt.start() + 1
            continue
        yield line, doc
        pos = end


def _collect(doc: Any, where: str, spans: List[Span], problems: List[Problem]) -> None:
    if isinstance(doc, list):
        for item in doc:
            _collect(item, where, spans, problems)
        return
    if not isinstance(doc, dict):
        problems.append(Problem(where, f"a JSON {type(doc).__name__} is not a span or an OTLP request"))
        return
    rs = doc.get("resourceSpans", doc.get("resource_spans"))
    if rs is not None:
        for resource_spans in rs if isinstance(rs, list) else []:
            resource = _otlp_attrs((resource_spans.get("resource") or {}).get("attributes"))
            for scope_spans in resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []:
                for raw in scope_spans.get("spans") or []:
                    _add(lambda: _otlp_span(raw, resource, where), where, raw, spans, problems)
        return
    if "context" in doc and "name" in doc:
        _add(lambda: _sdk_span(doc, where), where, doc, spans, problems)
    elif "traceId" in doc or "trace_id" in doc:
        _add(lambda: _otlp_span(doc, {}, where), where, doc, spans, problems)
    else:
        problems.append(Problem(where, "neither an OTLP request (resourceSpans) nor a span (name, context)"))


def _add(make, where: str, raw: Any, spans: List[Span], problems: List[Problem]) -> None:
    try:
        spans.append(make())
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        name = raw.get("name") if isinstance(raw, dict) else None
        problems.append(Problem(where, f"span {name!r} is malformed ({type(exc).__name__}: {exc})"))


# -- OTLP/JSON ---------------------------------------------------------------------------

def _otlp_id(value: Any, size: int, what: str) -> Optional[str]:
    """An OTLP id as lower-case hex: hex as the OTLP/JSON spec writes it, or base64."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} is a {type(value).__name__}")
    if len(value) == 2 * size and re.fullmatch(r"[0-9a-fA-F]+", value):
        return value.lower()
    raw = base64.b64decode(value, validate=True)
    if len(raw) != size:
        raise ValueError(f"{what} {value!r} is not {size} bytes")
    return raw.hex()


def _any_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "string_value"):
        if key in v:
            return v[key]
    for key in ("intValue", "int_value"):
        if key in v:
            return int(v[key])
    for key in ("doubleValue", "double_value"):
        if key in v:
            return float(v[key])
    for key in ("boolValue", "bool_value"):
        if key in v:
            return bool(v[key])
    for key in ("arrayValue", "array_value"):
        if key in v:
            return [_any_value(x) for x in (v[key] or {}).get("values") or []]
    for key in ("kvlistValue", "kvlist_value"):
        if key in v:
            return _otlp_attrs((v[key] or {}).get("values"))
    for key in ("bytesValue", "bytes_value"):
        if key in v:
            return v[key]
    return None


def _otlp_attrs(items: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for item in items or []:
        out[str(item["key"])] = _any_value(item.get("value"))
    return out


def _nanos(value: Any) -> Optional[float]:
    # whole seconds and the rest apart: a float of nanoseconds would round away microseconds
    if value in (None, "", 0, "0"):
        return None
    sec, ns = divmod(int(value), 10 ** 9)
    return sec + ns / 1e9


def _kind(value: Any) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return _KIND_NAMES.get(int(value), str(value))
    text = str(value or "INTERNAL").upper()
    return text.replace("SPAN_KIND_", "").replace("SPANKIND.", "")


def _otlp_span(raw: Dict[str, Any], resource: Dict[str, Any], where: str) -> Span:
    trace_id = _otlp_id(raw.get("traceId", raw.get("trace_id")), 16, "traceId")
    span_id = _otlp_id(raw.get("spanId", raw.get("span_id")), 8, "spanId")
    if trace_id is None or span_id is None:
        raise ValueError("no traceId or spanId")
    status = raw.get("status") or {}
    code = status.get("code", status.get("status_code"))
    return Span(
        trace_id=trace_id, span_id=span_id,
        parent_id=_otlp_id(raw.get("parentSpanId", raw.get("parent_span_id")), 8, "parentSpanId"),
        name=str(raw.get("name") or ""), kind=_kind(raw.get("kind")),
        start=_nanos(raw.get("startTimeUnixNano", raw.get("start_time_unix_nano"))),
        end=_nanos(raw.get("endTimeUnixNano", raw.get("end_time_unix_nano"))),
        error=code in (2, "2", "STATUS_CODE_ERROR", "ERROR"),
        attrs=_otlp_attrs(raw.get("attributes")),
        events=[(str(e.get("name") or ""), _nanos(e.get("timeUnixNano", e.get("time_unix_nano"))),
                 _otlp_attrs(e.get("attributes"))) for e in raw.get("events") or []],
        resource=resource, where=where,
        order=int(raw.get("startTimeUnixNano", raw.get("start_time_unix_nano")) or 0),
        end_order=int(raw.get("endTimeUnixNano", raw.get("end_time_unix_nano")) or 0))


# -- the SDK's span.to_json() ------------------------------------------------------------

def _hex_id(value: Any, size: int, what: str) -> Optional[str]:
    if value in (None, ""):
        return None
    text = str(value).lower()
    text = text[2:] if text.startswith("0x") else text
    if not re.fullmatch(r"[0-9a-f]+", text) or len(text) > 2 * size:
        raise ValueError(f"{what} {value!r} is not a hex id")
    return text.rjust(2 * size, "0")


def _iso(value: Any) -> Optional[float]:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value) / (1e9 if value > 1e14 else 1)
    stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.timestamp()


def _sdk_span(raw: Dict[str, Any], where: str) -> Span:
    ctx = raw["context"]
    trace_id = _hex_id(ctx.get("trace_id"), 16, "trace_id")
    span_id = _hex_id(ctx.get("span_id"), 8, "span_id")
    if trace_id is None or span_id is None:
        raise ValueError("no trace_id or span_id")
    status = raw.get("status") or {}
    resource = raw.get("resource") or {}
    return Span(
        trace_id=trace_id, span_id=span_id, parent_id=_hex_id(raw.get("parent_id"), 8, "parent_id"),
        name=str(raw.get("name") or ""), kind=_kind(raw.get("kind")),
        start=_iso(raw.get("start_time")), end=_iso(raw.get("end_time")),
        error=str(status.get("status_code") or "").upper().endswith("ERROR"),
        attrs=dict(raw.get("attributes") or {}),
        events=[(str(e.get("name") or ""), _iso(e.get("timestamp")), dict(e.get("attributes") or {}))
                for e in raw.get("events") or []],
        resource=dict(resource.get("attributes") or {}) if isinstance(resource, dict) else {}, where=where,
        order=_order(raw.get("start_time")), end_order=_order(raw.get("end_time")))


def _order(value: Any) -> int:
    t = _iso(value)
    return int(round(t * 1e6)) * 1000 if t is not None else 0
