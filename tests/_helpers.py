"""What many test files share: the weather tool their agents call, and the dtypes of the analysis columns."""

from __future__ import annotations

WEATHER = "Sunny in {city}, 21C"


def get_weather(city: str) -> str:
    """The weather in a city."""
    if city == "Atlantis":
        raise LookupError("no such city")  # the tool error the error views and flags are tested with
    return WEATHER.format(city=city)


# pandas dtype of each DuckDB column type, as the analysis tables load (tests check describe() against it)
DTYPES = {"VARCHAR": "string", "BIGINT": "Int64", "DOUBLE": "float64", "BOOLEAN": "boolean",
          "TIMESTAMPTZ": "datetime64[us, UTC]", "VARCHAR[]": "object"}
