"""Paired comparison of two agents on the same inputs.

:func:`compare_agents` lines up the runs of two agents (or teams, or workflows) that
answered the same input, and for each metric gives the mean difference (``agent_b −
agent_a``), a bootstrap confidence interval for it, a paired test's p-value, the number
of pairs and the inputs that only one of the two answered::

    from agno_nb.stats import compare_agents
    result = compare_agents(ex, "concise", "detailed")
    result.table        # one row per metric
    result.plot()       # the differences with their intervals

Pairing: one pair per input (``pair_on``, the run's ``input`` by default). When an agent
answered an input several times, its runs on it are averaged first, so every input
weighs the same. A pair missing the metric on either side (a cost with no price, a run
with no duration) is left out of that metric's figures only.

The interval is the percentile bootstrap of the mean difference over pairs (seeded:
``seed``, ``n_boot`` resamples). The p-value is from the Wilcoxon signed-rank test
(``scipy.stats.wilcoxon``, two-sided; exact for small samples without ties) when SciPy
is installed (``pip install 'agno_nb[stats]'``), else from a sign-flip permutation test
of the mean difference (exact up to 16 pairs, else ``n_boot`` seeded random flips). The
``test`` column names the one used. A pair whose two values are equal counts for the
interval, not for Wilcoxon (``zero_method='wilcox'`` drops zero differences).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

__all__ = ["compare_agents", "Comparison", "bootstrap_ci", "paired_test", "DEFAULT_METRICS"]

# Metrics of a run compared by default, when the runs carry them (n_flags counts the flags list).
# The whole turn's tokens and cost (cum_): a team run's stored total_tokens count its leader's
# model calls only, a workflow run's its steps', so they would compare different things.
DEFAULT_METRICS = ["cum_total_tokens", "cum_cost_usd", "duration", "n_tool_calls", "n_flags"]


def bootstrap_ci(d: np.ndarray, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95) -> tuple:
    """Percentile bootstrap interval of the mean of ``d`` (NaN, NaN for no data)."""
    d = np.asarray(d, dtype=float)
    if len(d) == 0:
        return (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    step = max(1, 2_000_000 // len(d))  # bounded memory: resample in blocks
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        means[start:stop] = d[rng.integers(0, len(d), size=(stop - start, len(d)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    return (float(low), float(high))


def _have_scipy() -> bool:
    try:
        import scipy.stats  # noqa: F401
    except ImportError:
        return False
    return True


def paired_test(d: np.ndarray, method: str = "auto", n_perm: int = 10_000, seed: int = 0) -> tuple:
    """(p-value, test name) for "the paired differences ``d`` are centred on 0", two-sided.

    ``method``: ``"wilcoxon"`` (SciPy), ``"permutation"`` (sign flips of the mean), or
    ``"auto"``: Wilcoxon when SciPy is installed.
    """
    d = np.asarray(d, dtype=float)
    if method == "auto":
        method = "wilcoxon" if _have_scipy() else "permutation"
    if method not in ("wilcoxon", "permutation"):
        raise ValueError(f"method must be 'auto', 'wilcoxon' or 'permutation'; got {method!r}")
    if len(d) == 0:
        return (np.nan, method)
    if not np.any(d != 0):
        return (1.0, method)  # no difference at all: nothing to test against
    if method == "wilcoxon":
        from scipy.stats import wilcoxon

        return (float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue), method)
    observed = abs(d.sum())
    tolerance = 1e-9 * max(1.0, observed)  # so float rounding does not drop the observed signs themselves
    if len(d) <= 16:  # every sign assignment: exact
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
        return (float(np.mean(np.abs(signs @ d) >= observed - tolerance)), method)
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(n_perm, len(d)))
    hits = int(np.sum(np.abs(signs @ d) >= observed - tolerance))
    return ((hits + 1) / (n_perm + 1), method)  # counting the observed assignment: never 0


@dataclass
class Comparison:
    """What :func:`compare_agents` returns: ``table`` (one row per metric), ``pairs`` (one
    row per paired input, each metric for both agents), ``unpaired`` (inputs only one
    agent answered), and :meth:`plot`."""

    agent_a: str
    agent_b: str
    table: pd.DataFrame
    pairs: pd.DataFrame
    unpaired: pd.DataFrame
    confidence: float = 0.95
    params: Dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Comparison({self.agent_b!r} − {self.agent_a!r}: {len(self.pairs)} paired inputs, "
                f"{len(self.unpaired)} without a partner)\n{self.table.to_string(index=False)}")

    def _repr_html_(self) -> str:
        return (f"<p>{self.agent_b} − {self.agent_a}: {len(self.pairs)} paired inputs, {len(self.unpaired)} "
                f"without a partner; {self.confidence:.0%} bootstrap intervals</p>" + self.table.to_html(index=False))

    def plot(self, metrics: Optional[Sequence[str]] = None, ax=None):
        """The mean difference per metric with its interval, one panel per metric (own units).

        Returns the matplotlib Figure.
        """
        import matplotlib.pyplot as plt

        rows = self.table if metrics is None else self.table[self.table["metric"].isin(list(metrics))]
        if ax is None:
            fig, axes = plt.subplots(len(rows), 1, figsize=(6, 0.9 + 0.8 * len(rows)), squeeze=False)
            axes = axes[:, 0]
        else:
            axes = np.atleast_1d(ax)
            fig = axes[0].figure
        for a, (_, r) in zip(axes, rows.iterrows()):
            a.axvline(0, color="0.6", lw=1)
            if np.isfinite(r["ci_low"]):
                a.hlines(0, r["ci_low"], r["ci_high"], color="C0", lw=2)
            a.plot([r["mean_diff"]], [0], "o", color="C0")
            a.set_yticks([0], [r["metric"]])
            a.set_ylim(-1, 1)
            p = "" if pd.isna(r["p_value"]) else f", p={r['p_value']:.3g}"
            a.set_title(f"{r['metric']}: {r['mean_diff']:.4g} (n={r['n_pairs']}{p})", fontsize=9, loc="left")
        fig.suptitle(f"{self.agent_b} − {self.agent_a}, {self.confidence:.0%} bootstrap intervals", fontsize=10)
        fig.tight_layout()
        return fig


def _who(runs: pd.DataFrame) -> pd.Series:
    return runs["agent_id"].fillna(runs["team_id"]).fillna(runs["workflow_id"])


def compare_agents(ex: Any, agent_a: str, agent_b: str, metric: Union[None, str, Sequence[str]] = None,
                   pair_on: str = "input", *, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
                   test: str = "auto", **filters: Any) -> Comparison:
    """Compare two agents (agent, team or workflow ids) on the inputs both answered.

    ``metric``: one metric, a list, or None for all of :data:`DEFAULT_METRICS` plus every
    numeric run column whose name contains ``score`` (annotation scores). ``pair_on``:
    the runs column that makes two runs a pair (``input``; or ``session_name``, ...).
    ``filters`` go to ``ex.runs()`` (``since=``, ``user_id=``, ...). Differences are
    ``agent_b − agent_a``. See the module docstring for the methods.
    """
    from .analysis import connect

    ex = connect(ex)
    runs = ex.runs(**filters)
    if pair_on not in runs.columns:
        raise KeyError(f"pair_on={pair_on!r} is not a runs column; columns are {', '.join(runs.columns)}")
    runs = runs.assign(_who=_who(runs), n_flags=runs["flags"].map(lambda f: 0 if f is None else len(f))
                       if "flags" in runs.columns else np.nan)
    known = set(runs["_who"].dropna())
    for name in (agent_a, agent_b):
        if name not in known:
            raise KeyError(f"no runs of {name!r} in {ex!r}"
                           + (f" with filters {filters}" if filters else "")
                           + f"; agents, teams and workflows there: {', '.join(sorted(known)) or 'none'}")
    if metric is None:
        # score columns that hold a value (the annotation columns are there, empty, without annotations)
        scores = [c for c in runs.columns
                  if "score" in c and pd.api.types.is_numeric_dtype(runs[c]) and runs[c].notna().any()]
        metrics = [m for m in DEFAULT_METRICS if m in runs.columns] + scores
    else:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        missing = [m for m in metrics if m not in runs.columns]
        if missing:
            raise KeyError(f"metric(s) {', '.join(map(repr, missing))} not in the runs columns")
    sub = runs[runs["_who"].isin([agent_a, agent_b]) & runs[pair_on].notna()]
    values = sub[[pair_on, "_who", *metrics]].copy()
    for m in metrics:
        values[m] = pd.to_numeric(values[m], errors="coerce").astype(float)
    per_input = values.groupby([pair_on, "_who"], sort=True)[metrics].mean().unstack("_who")
    answered = sub.groupby(pair_on)["_who"].unique()
    both = answered[answered.map(len) == 2].index
    unpaired = pd.DataFrame([(k, w[0]) for k, w in answered.items() if len(w) == 1], columns=[pair_on, "agent"])
    pairs = pd.DataFrame(index=pd.Index(both, name=pair_on))
    rows = []
    for m in metrics:
        a = per_input[(m, agent_a)].reindex(both) if (m, agent_a) in per_input.columns else pd.Series(np.nan, index=both)
        b = per_input[(m, agent_b)].reindex(both) if (m, agent_b) in per_input.columns else pd.Series(np.nan, index=both)
        pairs[f"{m}_a"], pairs[f"{m}_b"] = a, b
        ok = a.notna() & b.notna()
        d = (b[ok] - a[ok]).to_numpy(dtype=float)
        low, high = bootstrap_ci(d, n_boot=n_boot, seed=seed, confidence=confidence)
        p, method = paired_test(d, test, n_perm=max(n_boot, 2000), seed=seed)
        rows.append({"metric": m, "mean_a": float(a[ok].mean()) if ok.any() else np.nan,
                     "mean_b": float(b[ok].mean()) if ok.any() else np.nan,
                     "mean_diff": float(d.mean()) if len(d) else np.nan, "ci_low": low, "ci_high": high,
                     "p_value": p, "test": method, "n_pairs": int(ok.sum()), "n_unpaired": len(unpaired)})
    table = pd.DataFrame(rows, columns=["metric", "mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "p_value",
                                        "test", "n_pairs", "n_unpaired"])
    return Comparison(agent_a, agent_b, table, pairs.reset_index(), unpaired, confidence,
                      {"pair_on": pair_on, "n_boot": n_boot, "seed": seed, "filters": filters})
