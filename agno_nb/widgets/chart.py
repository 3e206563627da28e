"""Bar charts of per-session metrics as inline SVG that follows the notebook's theme.

A PNG (matplotlib's) has its colours baked in: white in JupyterLab Dark. This SVG is
markup: its text and axes take their colour from JupyterLab's (or VS Code's) theme
variables, with light-theme fallbacks where there are none (nbconvert's HTML, nbviewer,
GitHub), and its bars are mid-tone colours that stand out on a light and a dark
background alike. Session labels are escaped text; the same numbers give the same markup.
It needs no plotting library; a chart of three sessions is about 6 KB.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from . import html as h

CHART_METRICS = (("total_tokens", "tokens"), ("latency", "latency"), ("tool_calls", "tool calls"),
                 ("errors", "errors"))
# mid-tone bars: at least 3:1 against white and against JupyterLab Dark's #111 (WCAG 1.4.11)
COLORS = ("#3b82f6", "#16a34a", "#d97706", "#a855f7")
PANEL_W, PANEL_H, BAR_AREA = 190, 156, 100  # px: one panel per metric; bars grow up to BAR_AREA
TEXT_STYLE = f"fill:currentColor;font-family:var(--jp-ui-font-family,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif)"


def _value(col: str, v: float) -> str:
    return h.fmt_secs(v) if col == "latency" else f"{int(round(v)):,}"


def _label(col: str, v: float) -> str:
    """The value over a bar: short enough that neighbouring bars' labels keep apart
    ("152 ms", not "152.1 ms"); the bar's tooltip has the exact value."""
    if col != "latency":
        return _value(col, v)
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs"
    if v < 1:
        return f"{v * 1e3:.1f} ms" if v < 0.01 else f"{v * 1e3:.0f} ms"
    return f"{v:.1f} s" if v < 100 else f"{v:,.0f} s"


def bar_chart_svg(metrics: pd.DataFrame, labels: Sequence[str]) -> str:
    """One small bar chart per metric, a bar per session (coloured as in the legend above)."""
    n = len(labels)
    legend_h = 18 * ((n + 1) // 2) + 6
    width, height = PANEL_W * len(CHART_METRICS), PANEL_H + legend_h
    parts = []
    for i, label in enumerate(labels):  # the legend, two sessions a line
        x, y = 8 + (i % 2) * (width // 2), 14 + 18 * (i // 2)
        text = label if len(label) <= 48 else label[:47] + "…"
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" rx="2" style="fill:{COLORS[i % len(COLORS)]}"/>'
                     f'<text x="{x + 18}" y="{y}" font-size="12" style="{TEXT_STYLE}">{h.esc(text)}</text>')
    for p, (col, title) in enumerate(CHART_METRICS):
        x0, top = p * PANEL_W, legend_h
        base = top + 34 + BAR_AREA
        values = [float(v) if h.present(v) else 0.0 for v in metrics[col]]
        high = max(values, default=0.0) or 1.0
        slot = (PANEL_W - 30) / max(n, 1)
        bar_w = min(34.0, slot * 0.7)
        parts.append(f'<text x="{x0 + PANEL_W / 2:.1f}" y="{top + 12}" font-size="12" font-weight="600" '
                     f'text-anchor="middle" style="{TEXT_STYLE}">{h.esc(title)}</text>')
        for i, v in enumerate(values):
            bh = BAR_AREA * v / high
            cx = x0 + 15 + slot * (i + 0.5)
            parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{base - bh:.1f}" width="{bar_w:.1f}" height="{bh:.1f}" '
                         f'rx="2" style="fill:{COLORS[i % len(COLORS)]}"><title>{h.esc(labels[i])}: '
                         f'{h.esc(_value(col, v))}</title></rect>'
                         f'<text x="{cx:.1f}" y="{base - bh - 4:.1f}" font-size="11" text-anchor="middle" '
                         f'style="{TEXT_STYLE}">{h.esc(_label(col, v))}</text>')
        parts.append(f'<line x1="{x0 + 10}" y1="{base + 0.5}" x2="{x0 + PANEL_W - 10}" y2="{base + 0.5}" '
                     f'style="stroke:currentColor;stroke-width:1"/>')
    return (f'<svg class="agno-chart" role="img" aria-label="metrics per session" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;display:block;margin:4px 0;'
            f'color:{h.FG}" xmlns="http://www.w3.org/2000/svg"><title>metrics per session</title>'
            f'{"".join(parts)}</svg>')
