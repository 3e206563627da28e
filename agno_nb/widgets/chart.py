"""Bar charts of per-session metrics as an inline PNG (optional: needs matplotlib)."""

from __future__ import annotations

import base64
import io
from typing import Optional, Sequence

import pandas as pd

CHART_METRICS = (("total_tokens", "tokens"), ("latency", "latency (s)"), ("tool_calls", "tool calls"),
                 ("errors", "errors"))
COLORS = ("#2563eb", "#16a34a", "#d97706", "#9333ea")


def bar_chart_png(metrics: pd.DataFrame, labels: Sequence[str]) -> Optional[bytes]:
    """One small bar chart per metric, a bar per session; None without matplotlib.

    A bare ``Figure`` (no pyplot) leaves the user's pyplot state and backend alone;
    no metadata is written, so the same numbers give the same bytes.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    fig = Figure(figsize=(2.4 * len(CHART_METRICS), 2.2), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(CHART_METRICS))
    for ax, (col, title) in zip(axes, CHART_METRICS):
        values = [float(v) if pd.notna(v) else 0.0 for v in metrics[col]]
        ax.bar(range(len(values)), values, color=[COLORS[i % len(COLORS)] for i in range(len(values))])
        ax.set_title(title, fontsize=9)
        # parse_math=False: a "$" in a session id is text, not the start of TeX math
        ax.set_xticks(range(len(values)), labels, fontsize=7, rotation=15, parse_math=False)
        ax.tick_params(axis="y", labelsize=7)
        if col != "latency":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def img_tag(png: Optional[bytes], alt: str = "metrics per session") -> str:
    """An ``<img>`` holding the PNG inline; empty without a chart."""
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}" style="max-width:100%"/>'
