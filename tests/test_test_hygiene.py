"""The tests keep to their own rules: one shared weather tool and dtype table, no patched private methods."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("*.py"))}


def _where(pattern: str):
    return [f"{name}:{text[:m.start()].count(chr(10)) + 1}" for name, text in SOURCES.items()
            if name != "test_test_hygiene.py" for m in re.finditer(pattern, text, re.M)]


def test_one_get_weather_and_one_dtypes_table_in_the_shared_helpers():
    assert [w.split(":")[0] for w in _where(r"^\s*def get_weather\(")] == ["_helpers.py"]
    assert [w.split(":")[0] for w in _where(r"^DTYPES\s*=")] == ["_helpers.py"]


def test_no_test_patches_a_private_method():
    # obj._method = ..., del obj._method, monkeypatch.setattr(SomeClass, "_method", ...): use a public
    # hook instead (SessionExplorer.on_load for what the explorer loads)
    assigned = _where(r"^\s*(?:del\s+)?[A-Za-z_]\w*\._[a-z]\w*\s*(?:=[^=]|$)")
    patched = _where(r"setattr\(\s*[A-Z]\w*\s*,\s*['\"]_[a-z]")
    assert assigned == [] and patched == []
