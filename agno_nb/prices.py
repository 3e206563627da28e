"""Model prices, in US dollars per million tokens, for the ``cost_usd`` columns.

The table below was written by hand from the providers' public pricing pages (OpenAI,
Anthropic, Google Gemini API, Mistral, DeepSeek, Groq) as they stood in **August 2025**
(:data:`PRICES_AS_OF`). Prices change: check the provider's page, and set your own with
:func:`set`, which wins over the table::

    import agno_nb.prices
    agno_nb.prices.set("gpt-4o", input=2.5, output=10, cached_input=1.25)

What is not modelled: long-context tiers (Gemini above 200k tokens), batch and flex
discounts, DeepSeek's off-peak hours, Anthropic's cache *writes* (charged 1.25× input,
counted here at the input price), audio and image tokens. Where a provider's cached-input
price is not listed here, cached tokens are charged at the input price.

How a model id is matched (:func:`lookup`), first in your :func:`set` prices, then in the table:

1. The id is lower-cased; a provider prefix before the last ``/`` is dropped
   (``openai/gpt-4o``, ``models/gemini-1.5-pro``), as are a Bedrock vendor prefix
   (``anthropic.``, ``us.anthropic.``) and a ``:tag`` suffix (``…-v1:0``).
2. It matches an entry that it equals, or that it extends by a date or version suffix
   only: ``-2024-08-06``, ``-20250514``, ``-2411``, ``-001``, ``-latest``, ``-preview…``,
   ``-exp…``, ``-v1``, ``@20240620``. The longest such entry wins, so
   ``gpt-4o-mini-2024-07-18`` is ``gpt-4o-mini`` and ``gpt-4o-2024-08-06`` is ``gpt-4o``,
   while ``gpt-5-pro`` does *not* fall back to ``gpt-5`` (it has its own, different price).
3. Otherwise the model is unknown: its ``cost_usd`` is NaN, and the load warns once,
   naming it (each explorer names a model once, not at every load).

agno_nb's own offline models (provider ``agno_nb`` and ``agno_nb-demo``: ``EchoModel``,
``ScriptedModel``, the demo's ``DemoModel``) call no API: they cost 0 unless you set a price.

Cached input: Agno stores the cached part of the prompt as ``metrics.cache_read_tokens``.
OpenAI-style APIs (OpenAI, Google, DeepSeek, Mistral, Groq) count those tokens inside
``input_tokens`` too; Anthropic's do not (:attr:`Price.cached_in_input`). The cost is::

    (uncached input × input + cached × cached_input + output × output) / 1e6
"""

from __future__ import annotations

import builtins
import re
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

__all__ = ["Price", "PRICES", "PRICES_AS_OF", "FREE_PROVIDERS", "lookup", "set", "unset", "reset", "table",
           "normalize"]

PRICES_AS_OF = "2025-08"


@dataclass(frozen=True)
class Price:
    """One model's price in USD per million tokens."""

    input: float
    output: float
    cached_input: Optional[float] = None  # None: cached tokens cost the input price
    cached_in_input: bool = True  # does the API count cached tokens inside input_tokens?
    source: str = "table"

    def cost(self, input_tokens: float, output_tokens: float, cached_tokens: float = 0.0) -> float:
        """The cost in USD of one call (or a sum of calls) with these token counts."""
        cached = cached_tokens or 0.0
        uncached = max(input_tokens - cached, 0.0) if self.cached_in_input else input_tokens
        cached_price = self.input if self.cached_input is None else self.cached_input
        return (uncached * self.input + cached * cached_price + output_tokens * self.output) / 1e6


def _p(i: float, o: float, c: Optional[float] = None, *, separate_cache: bool = False) -> Price:
    return Price(i, o, c, cached_in_input=not separate_cache)


def _anthropic(i: float, o: float, c: float) -> Price:
    return _p(i, o, c, separate_cache=True)


PRICES: Dict[str, Price] = {
    # OpenAI
    "gpt-5": _p(1.25, 10.00, 0.125),
    "gpt-5-mini": _p(0.25, 2.00, 0.025),
    "gpt-5-nano": _p(0.05, 0.40, 0.005),
    "gpt-4.1": _p(2.00, 8.00, 0.50),
    "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
    "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
    "gpt-4o": _p(2.50, 10.00, 1.25),
    "gpt-4o-mini": _p(0.15, 0.60, 0.075),
    "o1": _p(15.00, 60.00, 7.50),
    "o1-mini": _p(1.10, 4.40, 0.55),
    "o3": _p(2.00, 8.00, 0.50),
    "o3-mini": _p(1.10, 4.40, 0.55),
    "o3-pro": _p(20.00, 80.00),
    "o4-mini": _p(1.10, 4.40, 0.275),
    "gpt-4-turbo": _p(10.00, 30.00),
    "gpt-4": _p(30.00, 60.00),
    "gpt-3.5-turbo": _p(0.50, 1.50),
    # Anthropic (cache reads are not part of input_tokens)
    "claude-opus-4-1": _anthropic(15.00, 75.00, 1.50),
    "claude-opus-4": _anthropic(15.00, 75.00, 1.50),
    "claude-sonnet-4": _anthropic(3.00, 15.00, 0.30),
    "claude-3-7-sonnet": _anthropic(3.00, 15.00, 0.30),
    "claude-3-5-sonnet": _anthropic(3.00, 15.00, 0.30),
    "claude-3-5-haiku": _anthropic(0.80, 4.00, 0.08),
    "claude-3-opus": _anthropic(15.00, 75.00, 1.50),
    "claude-3-haiku": _anthropic(0.25, 1.25, 0.03),
    # Google Gemini API (prompts up to 200k tokens)
    "gemini-2.5-pro": _p(1.25, 10.00),
    "gemini-2.5-flash": _p(0.30, 2.50),
    "gemini-2.5-flash-lite": _p(0.10, 0.40),
    "gemini-2.0-flash": _p(0.10, 0.40),
    "gemini-2.0-flash-lite": _p(0.075, 0.30),
    "gemini-1.5-pro": _p(1.25, 5.00),
    "gemini-1.5-flash": _p(0.075, 0.30),
    # Mistral
    "mistral-large": _p(2.00, 6.00),
    "mistral-medium": _p(0.40, 2.00),
    "mistral-small": _p(0.10, 0.30),
    "codestral": _p(0.30, 0.90),
    # DeepSeek (cache-hit price as cached input)
    "deepseek-chat": _p(0.27, 1.10, 0.07),
    "deepseek-reasoner": _p(0.55, 2.19, 0.14),
    # Groq-hosted open models (Groq's prices for Groq's ids)
    "llama-3.3-70b-versatile": _p(0.59, 0.79),
    "llama-3.1-8b-instant": _p(0.05, 0.08),
    "gemma2-9b-it": _p(0.20, 0.20),
}

# Other spellings of the same models.
ALIASES: Dict[str, str] = {
    "claude-opus-4-0": "claude-opus-4",
    "claude-sonnet-4-0": "claude-sonnet-4",
    "claude-3.5-sonnet": "claude-3-5-sonnet",
    "claude-3.7-sonnet": "claude-3-7-sonnet",
    "claude-3.5-haiku": "claude-3-5-haiku",
    "gpt-4o-mini-search-preview": "gpt-4o-mini",
}

# Providers of agno_nb's own offline models: no API, no cost.
FREE_PROVIDERS = frozenset({"agno_nb", "agno_nb-demo"})
_FREE = Price(0.0, 0.0, 0.0, source="offline model")

_SUFFIX = re.compile(r"^[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview|exp|v\d+)(?:[-@.].*)?$")
_BEDROCK = re.compile(r"^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|amazon|cohere|deepseek)\.")

_lock = threading.Lock()
_overrides: Dict[str, Price] = {}


def normalize(model: str) -> str:
    """The id as matched: lower case, without provider prefix, Bedrock vendor or ``:tag``."""
    m = model.strip().lower().rsplit("/", 1)[-1]
    m = _BEDROCK.sub("", m)
    return m.split(":", 1)[0]


def _match(model: str, entries: Dict[str, Price]) -> Optional[Price]:
    if model in entries:
        return entries[model]
    best = None
    for key in entries:
        if model.startswith(key) and _SUFFIX.match(model[len(key):]) and (best is None or len(key) > len(best)):
            best = key
    return entries[best] if best is not None else None


def lookup(model: Optional[str], provider: Optional[str] = None) -> Optional[Price]:
    """The price of ``model`` (see the module's matching rule), or None if unknown."""
    if not model:
        return None
    m = normalize(model)
    m = ALIASES.get(m, m)
    with _lock:
        found = _match(m, _overrides)
    if found is not None:
        return found
    found = _match(m, PRICES)
    if found is None and provider in FREE_PROVIDERS:
        return _FREE
    return found


def set(model: str, input: float, output: float, cached_input: Optional[float] = None,  # noqa: A001
        cached_in_input: bool = True) -> Price:
    """Set the price of ``model`` in USD per million tokens (wins over the table).

    The id is matched like the table's entries, so ``set("gpt-4o", ...)`` also prices
    ``gpt-4o-2024-08-06``. ``cached_in_input=False`` for APIs whose ``input_tokens``
    leave the cached tokens out (Anthropic's).
    """
    for name, value in (("input", input), ("output", output), ("cached_input", cached_input)):
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
            raise ValueError(f"prices.set({model!r}): {name} must be a number ≥ 0 (USD per million tokens); "
                             f"got {value!r}")
    price = Price(float(input), float(output), None if cached_input is None else float(cached_input),
                  cached_in_input=cached_in_input, source="set")
    with _lock:
        _overrides[normalize(model)] = price
    return price


def unset(model: str) -> None:
    """Forget a price set with :func:`set` (the table's, if any, applies again)."""
    with _lock:
        _overrides.pop(normalize(model), None)


def reset() -> None:
    """Forget every price set with :func:`set`."""
    with _lock:
        _overrides.clear()


def table():
    """The prices in effect, yours first, as a DataFrame (USD per million tokens)."""
    import pandas as pd

    with _lock:
        rows = [(k, v) for k, v in _overrides.items()]
    rows += [(k, v) for k, v in PRICES.items() if k not in dict(rows)]
    return pd.DataFrame([{"model": k, "input": v.input, "output": v.output, "cached_input": v.cached_input,
                          "cached_in_input": v.cached_in_input, "source": v.source if v.source == "set" else PRICES_AS_OF}
                         for k, v in rows])


def prices_for(pairs: Iterable[Tuple[Optional[str], Optional[str]]]) -> Dict[Tuple[Optional[str], Optional[str]],
                                                                             Optional[Price]]:
    """:func:`lookup` for each distinct (model, provider) pair."""
    return {pair: lookup(*pair) for pair in builtins.set(pairs)}
