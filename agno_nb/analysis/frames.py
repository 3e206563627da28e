"""Arrow tables as pandas DataFrames, the one way every table method returns them."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def _types_mapper(t: pa.DataType):
    # Arrow-backed strings avoid a Python object per cell; nullable ints and bools keep NULL as NA.
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_types_mapper)
