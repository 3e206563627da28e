"""What many test files share: the weather tool their agents call, and the dtypes of the analysis columns."""

from __future__ import annotations

from typing import Callable, Dict, Optional


def weather_tool(forecasts: Optional[Dict[str, str]] = None) -> Callable[[str], str]:
    """A ``get_weather(city)`` tool. Without ``forecasts`` it answers ``Sunny in {city}, 21C``
    for every city; with them, those answers (a scenario's own, as in _trips.py). Either way
    ``Atlantis`` (and, with forecasts, any city not in them) raises ``LookupError("no such
    city")``: the tool error the error views, flags and replay are tested with."""

    def get_weather(city: str) -> str:
        """The weather in a city."""
        if city == "Atlantis" or (forecasts is not None and city not in forecasts):
            raise LookupError("no such city")
        return forecasts[city] if forecasts is not None else f"Sunny in {city}, 21C"

    return get_weather


get_weather = weather_tool()

# pandas dtype of each DuckDB column type, as the analysis tables load (tests check describe() against it)
DTYPES = {"VARCHAR": "string", "BIGINT": "Int64", "DOUBLE": "float64", "BOOLEAN": "boolean",
          "TIMESTAMPTZ": "datetime64[us, UTC]", "VARCHAR[]": "object"}
