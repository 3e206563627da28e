"""``ex.sql()`` is read-only: nothing it runs may write, delete, attach, install, load or reconfigure.

Every refused statement is tried on a real SQLite file; afterwards the file's bytes and mtime
are unchanged and no file named by the statement exists.
"""

import os
from pathlib import Path

import pandas as pd
import pytest

import agno_nb
from agno_nb.errors import AgnoNbError, ReadOnlyError

# {src}: the source .db; {out}: a path in tmp_path that must not appear
REFUSED = {
    "copy-select-to-source": "COPY (SELECT 1) TO '{src}'",
    "copy-table-to-source": "COPY runs TO '{src}' (FORMAT csv)",
    "copy-to-new-file": "COPY (SELECT * FROM messages) TO '{out}' (FORMAT parquet)",
    "copy-from": "COPY runs FROM '{out}'",
    "export-database": "EXPORT DATABASE '{out}'",
    "import-database": "IMPORT DATABASE '{out}'",
    "attach": "ATTACH '{src}' AS s",
    "attach-sqlite": "ATTACH '{src}' AS s (TYPE sqlite)",
    "attach-new": "ATTACH '{out}' AS s",
    "detach": "DETACH s",
    "use": "USE memory",
    "install": "INSTALL sqlite",
    "force-install": "FORCE INSTALL sqlite",
    "load": "LOAD sqlite",
    "update-extensions": "UPDATE EXTENSIONS",
    "create-secret": "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'x')",
    "create-persistent-secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'x')",
    "set": "SET threads = 1",
    "set-autoload": "SET autoload_known_extensions = true",
    "set-external-access": "SET enable_external_access = false",
    "set-variable": "SET VARIABLE x = 1",
    "reset": "RESET threads",
    "pragma": "PRAGMA enable_profiling",
    "pragma-set": "PRAGMA threads = 1",
    "call-pragma": "CALL pragma_version()",
    "call-checkpoint": "CALL checkpoint()",
    "call-enable-logging": "CALL enable_logging(storage = 'file', storage_path = '{out}')",
    "select-enable-logging": "SELECT * FROM enable_logging(storage = 'file', storage_path = '{out}')",
    "select-enable-profiling": "SELECT * FROM enable_profiling()",
    "select-checkpoint": "SELECT * FROM force_checkpoint()",
    "select-query": "SELECT * FROM query('SELECT 1')",
    "sqlite-scan": "SELECT * FROM sqlite_scan('{src}', 'agno_sessions')",
    "source-as-table": "SELECT * FROM '{src}'",
    "read-duckdb": "SELECT * FROM read_duckdb('{src}')",
    "create-table": "CREATE TABLE t AS SELECT * FROM runs",
    "create-view": "CREATE VIEW v AS SELECT 1",
    "create-macro": "CREATE MACRO m(x) AS x",
    "insert": "INSERT INTO runs SELECT * FROM runs",
    "update": "UPDATE runs SET status = 'X'",
    "delete": "DELETE FROM runs",
    "drop": "DROP VIEW runs",
    "alter": "ALTER VIEW runs RENAME TO r",
    "begin": "BEGIN TRANSACTION",
    "vacuum": "VACUUM",
    "checkpoint": "CHECKPOINT",
    "prepare": "PREPARE p AS SELECT 1",
    "pivot-without-in": "PIVOT runs ON status USING count(*)",
    "explain-analyze-copy": "EXPLAIN ANALYZE COPY (SELECT 1) TO '{src}'",
    "explain-analyze-cte-delete": "EXPLAIN ANALYZE WITH t AS (DELETE FROM runs RETURNING *) SELECT * FROM t",
    "explain-options-checkpoint": "EXPLAIN (FORMAT json) SELECT * FROM checkpoint()",
    "two-statements": "SELECT 1; COPY (SELECT 1) TO '{src}'",
    # DuckDB parses these as SELECT and runs the DML in the WITH clause
    "cte-delete": "WITH t AS (DELETE FROM runs RETURNING *) SELECT * FROM t",
    "cte-insert": "WITH t AS (INSERT INTO runs SELECT * FROM runs RETURNING *) SELECT count(*) FROM t",
}


@pytest.fixture
def source(fixture_copy):
    path = Path(fixture_copy("agno-3.1-sqlite.db"))
    return path


def _state(path: Path):
    return path.read_bytes(), os.stat(path).st_mtime_ns


@pytest.mark.parametrize("name", list(REFUSED))
def test_sql_refuses_what_writes_or_changes_state(name, source, tmp_path):
    out = tmp_path / "out.csv"
    query = REFUSED[name].format(src=source, out=out)
    ex = agno_nb.connect(source)
    ex.sql("SELECT count(*) FROM runs")  # the tables are loaded: the refusal is not a missing table
    before = _state(source)
    with pytest.raises(ReadOnlyError, match="read-only"):
        ex.sql(query)
    assert _state(source) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]
    # the explorer is unharmed and still reads
    assert ex.sql("SELECT count(*) AS n FROM runs")["n"].tolist() == [7]
    assert ex.sql("SELECT current_setting('lock_configuration') AS v")["v"].tolist() == [True]


def test_an_empty_query_says_so(source):
    with pytest.raises(ValueError, match="no SQL statement"):
        agno_nb.connect(source).sql("  -- nothing\n")


def test_read_only_error_is_agno_nbs_own():
    assert issubclass(ReadOnlyError, AgnoNbError) and issubclass(ReadOnlyError, PermissionError)


def test_the_query_connection_cannot_load_extensions(source):
    ex = agno_nb.connect(source)
    settings = dict(ex.sql("SELECT name, value FROM duckdb_settings() WHERE name IN "
                           "('autoload_known_extensions', 'autoinstall_known_extensions', 'lock_configuration')")
                    .itertuples(index=False))
    assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false",
                        "lock_configuration": "true"}
    loaded = ex.sql("SELECT extension_name FROM duckdb_extensions() WHERE loaded")["extension_name"].tolist()
    assert "sqlite_scanner" not in loaded and "sqlite" not in loaded


def test_reads_keep_working(source, tmp_path):
    before = _state(source)
    ex = agno_nb.connect(source)
    own = pd.DataFrame({"agent_id": ["echo-agent", "weather-agent"], "team": ["a", "b"]})
    own.to_csv(tmp_path / "own.csv", index=False)
    own.to_parquet(tmp_path / "own.parquet")
    joined = ex.sql(f"SELECT r.agent_id, o.team, count(*) AS n FROM runs r JOIN '{tmp_path / 'own.csv'}' o "
                    "USING (agent_id) WHERE r.user_id = $u GROUP BY ALL ORDER BY 1", {"u": "alice"})
    assert joined.to_dict("records") == [{"agent_id": "echo-agent", "team": "a", "n": 3},
                                         {"agent_id": "weather-agent", "team": "b", "n": 1}]
    parquet = ex.sql("SELECT count(*) AS n FROM read_parquet(?) p JOIN read_csv(?) c USING (agent_id)",
                     [str(tmp_path / "own.parquet"), str(tmp_path / "own.csv")])
    assert parquet["n"].tolist() == [2]
    four = ex.sql("SELECT (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM runs) r, "
                  "(SELECT count(*) FROM messages) m, (SELECT count(*) FROM tool_calls) t")
    assert four.iloc[0].tolist() == [len(ex.sessions()), len(ex.runs()), len(ex.messages()), len(ex.tool_calls())]
    assert "run_id" in ex.sql("DESCRIBE runs")["column_name"].tolist()
    assert len(ex.sql("SUMMARIZE sessions")) > 0
    assert ex.sql("WITH x AS (FROM runs) SELECT count(*) AS n FROM x")["n"].tolist() == [7]
    assert ex.sql("PIVOT (SELECT status FROM runs) ON status IN ('COMPLETED') USING count(*)").shape == (1, 1)
    assert ex.sql("SELECT 1 AS x;")["x"].tolist() == [1]
    assert len(ex.sql("EXPLAIN ANALYZE SELECT count(*) FROM messages")) == 1
    assert len(ex.sql("/* plan */ EXPLAIN (FORMAT json) SELECT count(*) FROM tool_calls")) == 1
    assert _state(source) == before


def test_without_a_syntax_tree_the_tokens_decide():
    from agno_nb.analysis.sql import check_select_tree

    with pytest.raises(ReadOnlyError, match="UPDATE inside a query"):
        check_select_tree("WITH t AS (UPDATE runs SET status = 'X' RETURNING *) SELECT * FROM t", None)
    check_select_tree("SELECT 'update', \"delete\" FROM runs -- insert", None)  # strings, identifiers, comments
