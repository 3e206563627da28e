"""Pathology flags: runs that looped, retried a failed call, failed, came back empty or cut
off, sessions whose context kept growing, and runs far slower than their agent's usual.

The flags are declared once, in :data:`FLAGS`: each with its name, what it means, its
thresholds (keyword arguments of ``ex.flags()``, with their defaults) and the function
that finds it in the loaded tables. From that list come ``ex.flags()`` (one row per
finding), the ``flags`` column of ``runs()`` (the names of a run's flags, with the
default thresholds), ``describe("flags")`` and the tests.

Flags that compare runs with each other (``context_growth``, ``slow_run``) compare the
runs loaded by the call: with filters, the others are not seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FINDING_COLUMNS = ["session_id", "run_id", "flag", "detail", "message_index"]
# the runs columns the finders read
RUN_FIELDS = ["run_id", "session_id", "parent_run_id", "run_index", "created_at", "agent_id", "team_id",
              "workflow_id", "status", "content", "input_tokens", "duration"]

# What the flags read of a run's messages and tool calls. The runs table parses these in the
# same pass as its own columns (they replace its item counts' ``["NULL"]`` lists), so the
# flags cost no second read of the runs; they come as hidden ``_messages`` / ``_tools``
# columns that :mod:`agno_nb.analysis.derived` turns into rows and drops.
RUN_INPUTS = {
    "messages": '[{"role": "VARCHAR", "tool_call_id": "VARCHAR", "from_history": "BOOLEAN", '
                '"provider_data": {"finish_reason": "VARCHAR"}, "metrics": {"output_tokens": "BIGINT"}}]',
    "tools": '[{"tool_call_id": "VARCHAR", "tool_name": "VARCHAR", "tool_args": "JSON", "tool_call_error": "BOOLEAN"}]',
}

Finder = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Flag:
    """One pathology flag."""

    name: str
    doc: str
    find: Finder  # (runs, calls, messages, **params) -> session_id, run_id, detail, message_index
    # (calls: the tool_calls rows with canonical ``args`` and ``pos``, see _calls)
    params: Dict[str, Any] = field(default_factory=dict)  # threshold -> default


def _canonical(args: Any) -> str:
    """Tool arguments as comparable text: the same arguments in another key order match."""
    if args is None or args is pd.NA:
        return ""
    try:
        return json.dumps(json.loads(args), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(args)


def _calls(tool_calls: pd.DataFrame) -> pd.DataFrame:
    """The tool calls as the finders get them: with canonical ``args`` and ``pos`` in the run."""
    tc = tool_calls[["session_id", "run_id", "tool_call_id", "tool_name", "tool_args", "tool_call_error"]].copy()
    raw = tc["tool_args"].astype(object).where(tc["tool_args"].notna(), None)
    # Only a tool called twice or more in a run can loop or be retried: only those calls'
    # arguments are parsed to compare them (each distinct text once); the others keep theirs.
    repeated = tc.groupby(["run_id", "tool_name"], sort=False, dropna=False)["tool_name"].transform("size").to_numpy() > 1
    args = raw.to_numpy(dtype=object, copy=True)
    if repeated.any():
        codes, uniques = pd.factorize(raw[repeated], use_na_sentinel=False)
        args[repeated] = np.asarray([_canonical(a) for a in uniques], dtype=object)[codes]
    args[~repeated] = [_canonical(None) if a is None else a for a in args[~repeated]]
    tc["args"] = args
    tc["pos"] = tc.groupby("run_id", sort=False).cumcount()  # the table keeps each run's call order
    return tc


def _tool_message_index(messages: pd.DataFrame, calls: pd.DataFrame, id_col: str) -> pd.Series:
    """Index of the tool message that answered each call (NA if not stored)."""
    tool_msgs = messages.loc[messages["role"] == "tool", ["run_id", "tool_call_id", "message_index"]]
    tool_msgs = tool_msgs.dropna(subset=["tool_call_id"]).drop_duplicates(["run_id", "tool_call_id"])
    keyed = calls[["run_id", id_col]].rename(columns={id_col: "tool_call_id"})
    joined = keyed.merge(tool_msgs, on=["run_id", "tool_call_id"], how="left")
    return pd.array(joined["message_index"], dtype="Int64")


def _short(args: str, limit: int = 80) -> str:
    return args if len(args) <= limit else args[:limit - 1] + "…"


def _tool_loop(runs, tool_calls, messages, *, loop_min_calls: int = 3) -> pd.DataFrame:
    tc = tool_calls.copy()
    tc["n"] = tc.groupby(["run_id", "tool_name", "args"], sort=False, dropna=False)["pos"].transform("size")
    tc["k"] = tc.groupby(["run_id", "tool_name", "args"], sort=False, dropna=False).cumcount() + 1
    hit = tc[(tc["n"] >= loop_min_calls) & (tc["k"] == loop_min_calls)].copy()
    hit["detail"] = [f"{name}({_short(a)}) called {n} times with the same arguments"
                     for name, a, n in zip(hit["tool_name"], hit["args"], hit["n"])]
    hit["message_index"] = _tool_message_index(messages, hit, "tool_call_id")
    return hit


def _error_retry(runs, tool_calls, messages) -> pd.DataFrame:
    tc = tool_calls.copy()
    groups = tc.groupby(["run_id", "tool_name", "args"], sort=False, dropna=False)
    tc["next_id"] = groups["tool_call_id"].shift(-1)
    tc["has_next"] = groups["pos"].shift(-1).notna()
    hit = tc[tc["tool_call_error"].fillna(False).astype(bool) & tc["has_next"]].copy()
    hit["detail"] = [f"{name}({_short(a)}) failed, then was called again with the same arguments"
                     for name, a in zip(hit["tool_name"], hit["args"])]
    hit["message_index"] = _tool_message_index(messages, hit, "next_id")  # where the retry answered
    return hit


def _run_error(runs, tool_calls, messages) -> pd.DataFrame:
    hit = runs[runs["status"] == "ERROR"].copy()
    hit["detail"] = ["run ended in ERROR" + (f": {_short(str(c))}" if isinstance(c, str) and c.strip() else "")
                     for c in hit["content"]]
    return hit


def _empty_answer(runs, tool_calls, messages) -> pd.DataFrame:
    # classified in Arrow, not strip()ped: no copy of every answer's text
    content = pa.array(runs["content"], pa.large_string(), from_pandas=True)
    blank = pc.fill_null(pc.or_(pc.equal(pc.utf8_length(content), 0), pc.utf8_is_space(content)), True)
    blank = blank.to_numpy(zero_copy_only=False)
    hit = runs[(runs["status"] == "COMPLETED") & blank].copy()
    hit["detail"] = "run completed with an empty final answer"
    return hit


_LENGTH = {"length", "max_tokens", "max_output_tokens"}


def _truncated(runs, tool_calls, messages) -> pd.DataFrame:
    reason = messages["finish_reason"].astype("string").str.lower()
    hit = messages[(messages["role"] == "assistant") & reason.isin(_LENGTH).fillna(False)
                   & ~messages["from_history"].fillna(False).astype(bool)].copy()
    hit["detail"] = [f"answer cut off by the output limit (finish_reason={r!r}"
                     + ("" if pd.isna(t) else f", {t} output tokens") + ")"
                     for r, t in zip(hit["finish_reason"], hit["output_tokens"])]
    return hit


def _context_growth(runs, tool_calls, messages, *, context_tokens: int = 100_000) -> pd.DataFrame:
    runs = runs[["session_id", "run_id", "parent_run_id", "run_index", "created_at", "input_tokens"]]
    top = runs[runs["parent_run_id"].isna() & runs["input_tokens"].notna()]
    top = top.sort_values(["session_id", "run_index", "created_at"], kind="stable")
    by_session = top.groupby("session_id", sort=False)
    top = top.assign(_pos=by_session.cumcount(), _first=by_session["input_tokens"].transform("first"))
    # the first run above the threshold, when it is not the session's first run (it grew past it)
    over = top[top["input_tokens"] > context_tokens].groupby("session_id", sort=False).head(1)
    hit = over[over["_pos"] > 0].copy()
    hit["detail"] = [f"input grew from {int(f):,} tokens (first run) to {int(t):,} in run {p + 1} of the session, "
                     f"past {context_tokens:,}" for f, t, p in zip(hit["_first"], hit["input_tokens"], hit["_pos"])]
    return hit


def _slow_run(runs, tool_calls, messages, *, latency_mads: float = 3.0, latency_min_runs: int = 5) -> pd.DataFrame:
    who = runs["agent_id"].fillna(runs["team_id"]).fillna(runs["workflow_id"])
    df = runs[["session_id", "run_id", "duration"]].assign(_who=who)
    df = df[df["_who"].notna() & df["duration"].notna()].copy()
    groups = df.groupby("_who", sort=False)["duration"]
    df["_med"] = groups.transform("median")
    df["_n"] = groups.transform("size")
    df["_dev"] = (df["duration"] - df["_med"]).abs()
    df["_mad"] = 1.4826 * df.groupby("_who", sort=False)["_dev"].transform("median")  # one normal sd
    # no spread (MAD 0): nothing to measure a deviation against
    judged = df[(df["_n"] >= latency_min_runs) & (df["_mad"] > 0)]
    z = (judged["duration"] - judged["_med"]) / judged["_mad"]
    hit = judged[z > latency_mads].copy()
    hit["detail"] = [f"{d:.2f} s against {w}'s median {m:.2f} s: {zz:.1f} robust deviations (MAD)"
                     for d, w, m, zz in zip(hit["duration"], hit["_who"], hit["_med"], z[z > latency_mads])]
    return hit


FLAGS: List[Flag] = [
    Flag("tool_loop", "The same tool called with the same arguments at least loop_min_calls times in a run; "
         "message_index: the answer to the call that reached the count", _tool_loop, {"loop_min_calls": 3}),
    Flag("error_retry", "A tool call that failed (tool_call_error), then the same call again in the run; "
         "message_index: the retry's answer", _error_retry),
    Flag("run_error", "The run ended with status ERROR", _run_error),
    Flag("empty_answer", "The run COMPLETED with an empty (or whitespace) final answer", _empty_answer),
    Flag("truncated", "An answer cut off by the output limit: finish_reason 'length' / 'max_tokens' on an "
         "assistant message. Decided only where the writer stored finish_reason (agno_nb's OpenAI-compatible "
         "models do; Agno 3.1 does not, so its sessions never get this flag)", _truncated),
    Flag("context_growth", "A session's input tokens grew past context_tokens: the first top-level run above it, "
         "in a session whose first run was below", _context_growth, {"context_tokens": 100_000}),
    Flag("slow_run", "Duration more than latency_mads robust deviations (1.4826 × MAD) above its agent's "
         "(or team's, workflow's) median, among the loaded runs; agents with fewer than latency_min_runs "
         "timed runs, or no spread, are not judged", _slow_run, {"latency_mads": 3.0, "latency_min_runs": 5}),
]
FLAG_NAMES = [f.name for f in FLAGS]
# "A tool result the final answer ignores" is not a flag: deciding it needs reading for
# meaning, which word overlap would fake.


def thresholds() -> Dict[str, Any]:
    """Every flag threshold with its default."""
    return {k: v for f in FLAGS for k, v in f.params.items()}


def describe_flags() -> List[Dict[str, str]]:
    """Rows for :func:`agno_nb.describe`."""
    return [{"table": "flags", "column": f.name, "type": "flag",
             "description": f.doc + (" (defaults: " + ", ".join(f"{k}={v!r}" for k, v in f.params.items()) + ")"
                                     if f.params else "")}
            for f in FLAGS]


def find_flags(runs: pd.DataFrame, tool_calls: pd.DataFrame, messages: pd.DataFrame,
               only: Optional[Sequence[str]] = None, **params: Any) -> pd.DataFrame:
    """One row per finding over loaded tables: session_id, run_id, flag, detail, message_index."""
    known = thresholds()
    unknown = [k for k in params if k not in known]
    if unknown:
        raise TypeError(f"unknown flag threshold(s) {', '.join(map(repr, unknown))}; "
                        f"the thresholds are {', '.join(f'{k}={v!r}' for k, v in known.items())}")
    if only is not None:
        bad = [n for n in only if n not in FLAG_NAMES]
        if bad:
            raise ValueError(f"unknown flag(s) {', '.join(map(repr, bad))}; the flags are {', '.join(FLAG_NAMES)}")
    calls = _calls(tool_calls)
    parts = []
    for flag in FLAGS:
        if only is not None and flag.name not in only:
            continue
        kw = {k: params.get(k, v) for k, v in flag.params.items()}
        found = flag.find(runs, calls, messages, **kw)
        if len(found):
            # run-level flags have no message: reindex gives them a missing message_index
            parts.append(found.reindex(columns=["session_id", "run_id", "detail", "message_index"]).assign(flag=flag.name))
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]
    # run order as loaded, then the flags' declared order
    out["_run"] = pd.Index(runs["run_id"]).get_indexer(out["run_id"])
    out["_flag"] = out["flag"].map({n: i for i, n in enumerate(FLAG_NAMES)})
    out = out.sort_values(["_run", "_flag", "message_index"], kind="stable").drop(columns=["_run", "_flag"])
    return _typed(out.reset_index(drop=True))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    s = pd.StringDtype("pyarrow")
    return df.astype({"session_id": s, "run_id": s, "flag": s, "detail": s, "message_index": "Int64"})


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in FINDING_COLUMNS}))


def flag_lists(run_ids: pa.Array, findings: pd.DataFrame) -> pa.Array:
    """For each run id, the names of its flags (declared order, each once), as an Arrow list column."""
    rank = {n: i for i, n in enumerate(FLAG_NAMES)}
    found = pd.DataFrame({"run_id": findings["run_id"].astype(object), "flag": findings["flag"].astype(object)})
    found = found.drop_duplicates()
    found = found.assign(_rank=found["flag"].map(rank)).sort_values(["run_id", "_rank"], kind="stable")
    ids, starts = np.unique(found["run_id"].to_numpy(dtype=object).astype(str), return_index=True)
    # one list per flagged run id, then an empty one for the runs without a flag
    offsets = np.append(starts, [len(found), len(found)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(found["flag"].tolist(), pa.string()))
    rows = pc.index_in(run_ids, value_set=pa.array(ids.tolist(), pa.string()))
    return pc.take(lists, pc.fill_null(rows, len(ids)))
