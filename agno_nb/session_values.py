"""Typed values inside session records: a session's summary and a run's input.

Both are ``dict`` subclasses holding exactly the JSON Agno stores, with Agno's attribute
names on top (``session.summary.summary``, ``run.input.input_content``). Being dicts,
they are written to the JSON columns as they are, code that indexed them as dicts
(``session.summary["topics"]``) keeps working, and keys this version does not know
round-trip untouched.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Mapping, Optional, Union


def _compact(data: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class _StoredValue(dict):
    """A dict holding exactly the JSON Agno stores, with Agno's ``from_dict``/``to_dict``."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        """The value stored as ``data`` (any mapping); unknown keys are kept."""
        if isinstance(data, cls):
            return data
        out = cls()
        out.update(data)
        return out

    def to_dict(self) -> Dict[str, Any]:
        """The JSON Agno stores (None values left out)."""
        return _compact(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class SessionSummary(_StoredValue):
    """A session's summary: ``summary`` text, ``topics`` and ``updated_at``.

    As in Agno, ``updated_at`` is a :class:`datetime.datetime` on the object and an ISO
    8601 string in the stored JSON. Summaries written by agno_nb 0.1 stored Unix seconds
    there; those read back as a datetime too.
    """

    def __init__(self, summary: Optional[str] = None, topics: Optional[List[str]] = None,
                 updated_at: Union[datetime.datetime, str, int, float, None] = None, **extra: Any):
        super().__init__()
        self.update(_compact({"summary": summary, "topics": topics, "updated_at": _iso(updated_at), **extra}))

    @property
    def summary(self) -> Optional[str]:
        return self.get("summary")

    @summary.setter
    def summary(self, value: Optional[str]) -> None:
        self._set("summary", value)

    @property
    def topics(self) -> Optional[List[str]]:
        return self.get("topics")

    @topics.setter
    def topics(self, value: Optional[List[str]]) -> None:
        self._set("topics", value)

    @property
    def updated_at(self) -> Optional[datetime.datetime]:
        value = self.get("updated_at")
        if value is None or value == "":
            return None
        if isinstance(value, (int, float)):
            return datetime.datetime.fromtimestamp(value)
        return datetime.datetime.fromisoformat(str(value))

    @updated_at.setter
    def updated_at(self, value: Union[datetime.datetime, str, int, float, None]) -> None:
        self._set("updated_at", _iso(value))

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self.pop(key, None)
        else:
            self[key] = value



def _iso(value: Union[datetime.datetime, str, int, float, None]) -> Optional[str]:
    """Agno stores ``updated_at`` as ``datetime.isoformat()`` (local time, no zone)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(value)
    return value.isoformat()


class RunInput(_StoredValue):
    """What was passed to ``run()``: ``input_content`` and any media (``images``,
    ``videos``, ``audios``, ``files``, kept as the stored JSON)."""

    def __init__(self, input_content: Any = None, images: Optional[List[Any]] = None,
                 videos: Optional[List[Any]] = None, audios: Optional[List[Any]] = None,
                 files: Optional[List[Any]] = None, **extra: Any):
        super().__init__()
        self.update(_compact({"input_content": input_content, "images": images or None,
                              "videos": videos or None, "audios": audios or None, "files": files or None,
                              **extra}))

    @property
    def input_content(self) -> Any:
        return self.get("input_content")

    @input_content.setter
    def input_content(self, value: Any) -> None:
        self["input_content"] = value

    images = property(lambda self: self.get("images"), doc="Images passed to run(), as stored.")
    videos = property(lambda self: self.get("videos"), doc="Videos passed to run(), as stored.")
    audios = property(lambda self: self.get("audios"), doc="Audio passed to run(), as stored.")
    files = property(lambda self: self.get("files"), doc="Files passed to run(), as stored.")

    def input_content_string(self) -> str:
        """The input as text, as Agno renders it in team and workflow histories."""
        content = self.input_content
        if isinstance(content, str):
            return content
        if isinstance(content, list):  # Agno: lists as JSON, everything else str()
            try:
                return json.dumps(content, ensure_ascii=False)
            except (TypeError, ValueError):
                return str(content)
        return str(content)
