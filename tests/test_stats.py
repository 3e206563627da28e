"""agno_nb.stats.compare_agents: a hand-computed small case, and the interval's coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest

import agno_nb
from agno_nb.stats import bootstrap_ci, compare_agents, paired_test

from _built import run, write

# SciPy and matplotlib are imported in the tests that use them: conftest.py's scheduler runs this
# module on one pytest-xdist worker, so only that one pays for importing them


@pytest.fixture
def ex(tmp_path):
    """Agents a and b on q1..q3 (b twice on q1), plus an input each that the other never saw."""
    t = {"a": {"q1": [10], "q2": [20], "q3": [30], "q4": [40]},
         "b": {"q1": [12, 14], "q2": [25], "q3": [29], "q5": [50]}}
    sessions = {}
    for agent, questions in t.items():
        runs = [run(f"{agent}-{q}-{i}", agent=agent, question=q, inp=tokens, out=0, duration=tokens / 10)
                for q, totals in questions.items() for i, tokens in enumerate(totals)]
        sessions[f"s-{agent}"] = runs
    write(tmp_path / "pairs.db", sessions)
    return agno_nb.connect(tmp_path / "pairs.db", progress=False)


def test_hand_computed_case(ex):
    result = compare_agents(ex, "a", "b", metric=["total_tokens", "duration"], n_boot=20_000, seed=1)
    row = result.table.set_index("metric").loc["total_tokens"]
    # per input, b − a, b's two runs on q1 averaged: (13 − 10, 25 − 20, 29 − 30) = (3, 5, −1)
    assert row["mean_a"] == pytest.approx(20) and row["mean_b"] == pytest.approx(67 / 3)
    assert row["mean_diff"] == pytest.approx(7 / 3) and row["n_pairs"] == 3 and row["n_unpaired"] == 2
    # bootstrap: the mean of 3 draws from (3, 5, −1); −1 and 5 each have probability 1/27 = 3.7% > 2.5%
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(-1), pytest.approx(5))
    # Wilcoxon: |d| ranks 2, 3, 1; W+ = 5 of 6; P(W+ >= 5) = 2/8, two-sided 0.5
    assert row["p_value"] == pytest.approx(0.5) and row["test"] == "wilcoxon"
    assert result.table.set_index("metric").loc["duration", "mean_diff"] == pytest.approx(7 / 30)
    assert sorted(map(tuple, result.unpaired.values.tolist())) == [("q4", "a"), ("q5", "b")]
    assert result.pairs["input"].tolist() == ["q1", "q2", "q3"]
    assert result.pairs["total_tokens_b"].tolist() == [13, 25, 29]


def test_permutation_test_by_hand(ex):
    row = compare_agents(ex, "a", "b", metric="total_tokens", test="permutation").table.iloc[0]
    # sign flips of (3, 5, −1): |sums| 9, 7, 1, 3, 3, 1, 7, 9; at least |7| in 4 of 8
    assert row["p_value"] == pytest.approx(0.5) and row["test"] == "permutation"
    assert paired_test(np.zeros(4)) == (1.0, "wilcoxon")


def test_default_metrics_and_plot(ex):
    import matplotlib

    matplotlib.use("Agg")
    result = compare_agents(ex, "a", "b")
    assert result.table["metric"].tolist() == ["cum_total_tokens", "cum_cost_usd", "duration", "n_tool_calls", "n_flags"]
    assert result.table.set_index("metric").loc["n_tool_calls", "mean_diff"] == 0
    fig = result.plot()
    assert len(fig.axes) == 5 and "b − a" in fig._suptitle.get_text()
    assert "3 paired inputs" in repr(result) and "<table" in result._repr_html_()


def test_wrong_names_are_explained(ex):
    with pytest.raises(KeyError, match="'c'.*a, b"):
        compare_agents(ex, "a", "c")
    with pytest.raises(KeyError, match="pair_on='prompt'"):
        compare_agents(ex, "a", "b", pair_on="prompt")
    with pytest.raises(KeyError, match="'tokens'"):
        compare_agents(ex, "a", "b", metric="tokens")


def test_the_interval_covers_the_true_difference_at_about_the_nominal_rate():
    """200 seeded datasets of 40 skewed paired differences with a known mean."""
    rng = np.random.default_rng(2024)
    trials, n, true_mean = 200, 40, 1.5
    covered = 0
    for i in range(trials):
        d = true_mean + rng.gamma(2.0, 1.0, size=n) - 2.0  # skewed, mean exactly true_mean
        low, high = bootstrap_ci(d, n_boot=1000, seed=i)
        covered += low <= true_mean <= high
    # the count is Binomial(200, 0.95) if the interval is right; accept its central 99.9%
    from scipy.stats import binom

    lo, hi = binom.ppf(0.0005, trials, 0.95), binom.ppf(0.9995, trials, 0.95)
    assert lo <= covered <= hi, f"{covered}/{trials} intervals covered the true difference"


def test_permutation_test_with_many_pairs_is_seeded_and_never_zero():
    d = np.arange(1.0, 41.0)  # every difference positive: as extreme as it gets
    p, method = paired_test(d, "permutation", n_perm=999, seed=3)
    assert method == "permutation" and p == pytest.approx(1 / 1000)
    noisy = np.random.default_rng(0).normal(0, 1, 30)
    assert paired_test(noisy, "permutation", seed=5) == paired_test(noisy, "permutation", seed=5)
    assert 0.05 < paired_test(noisy, "permutation", seed=5)[0] <= 1
