"""The magics, in a real IPython kernel (jupyter_client), on a real SQLite file."""

import json
import sys
import textwrap

import pytest
from jupyter_client.manager import start_new_kernel

from agno_nb.magics import bind_variables

from conftest import FIXTURES


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="python3", extra_arguments=[], startup_timeout=60)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code):
    """Execute code; return (stdout text, result texts, error or None)."""
    msg_id = kc.execute(code)
    out, results, error = [], [], None
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            results.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out), results, error


def test_magics_in_a_kernel(kernel):
    path = str(FIXTURES / "agno-3.1-sqlite.db")
    _, _, err = run(kernel, f"import sys; sys.path.insert(0, {json.dumps(sys.path[0])})\n%load_ext agno_nb")
    assert err is None
    _, results, err = run(kernel, f"%agno_connect {path}")
    assert err is None and "SessionExplorer" in results[0]
    _, results, err = run(kernel, textwrap.dedent("""\
        wanted = "alice"
        hostile = "x' or '1'='1"
        """))
    assert err is None
    _, results, err = run(kernel, "%%agno_sql -o per_agent\n"
                                  "select agent_id, count(*) as n from runs where user_id = $wanted group by 1 order by 1")
    assert err is None, err
    out, _, err = run(kernel, "print(per_agent.to_dict('records'))")
    assert out.strip() == "[{'agent_id': 'echo-agent', 'n': 3}, {'agent_id': 'weather-agent', 'n': 1}]"
    # a variable is a bound value: a hostile one matches nothing and breaks nothing
    _, _, err = run(kernel, "%%agno_sql -o none\nselect * from runs where user_id = $hostile")
    assert err is None
    out, _, _ = run(kernel, "print(len(none), len(agno_explorer.runs()))")
    assert out.split() == ["0", "7"]
    _, _, err = run(kernel, "%%agno_sql\nselect * from runs where user_id = $undefined_name")
    assert err is not None and "undefined_name" in err
    _, results, err = run(kernel, "%agno_sessions")
    assert err is None and results


def test_bind_variables_leaves_string_literals_alone():
    sql, params = bind_variables("select '$notvar', $a from t where x = $b", {"a": 1, "b": "y"})
    assert sql == "select '$notvar', $a from t where x = $b" and params == {"a": 1, "b": "y"}
    with pytest.raises(NameError, match=r"\$c"):
        bind_variables("select $c", {})


def _load(kc):
    _, _, err = run(kc, f"import sys; sys.path.insert(0, {json.dumps(sys.path[0])})\n%load_ext agno_nb")
    assert err is None, err


def test_magic_sql_is_read_only(kernel, fixture_copy):
    import os

    path = fixture_copy("agno-3.1-sqlite.db")
    before = (open(path, "rb").read(), os.stat(path).st_mtime_ns)
    _load(kernel)
    _, _, err = run(kernel, f"%agno_connect {path}")
    assert err is None, err
    _, _, err = run(kernel, f"%%agno_sql\nCOPY (SELECT 1) TO '{path}'")
    assert err is not None and err.startswith("ReadOnlyError") and "read-only" in err
    _, _, err = run(kernel, f"%agno_sql ATTACH '{path}' AS s (TYPE sqlite)")
    assert err is not None and err.startswith("ReadOnlyError")
    _, _, err = run(kernel, "%agno_sql -o n INSTALL sqlite")
    assert err is not None and err.startswith("ReadOnlyError")
    assert (open(path, "rb").read(), os.stat(path).st_mtime_ns) == before


def test_magic_line_form_and_tokenized_variables(kernel):
    _load(kernel)
    _, _, err = run(kernel, f"%agno_connect {FIXTURES / 'agno-3.1-sqlite.db'}")
    assert err is None, err
    _, _, err = run(kernel, "wanted = 'alice'")
    # line form, with -o; IPython must not paste $wanted into the text (it is bound)
    _, results, err = run(kernel, "%agno_sql -o n_alice SELECT count(*) AS n FROM runs WHERE user_id = $wanted")
    assert err is None, err
    out, _, _ = run(kernel, "print(n_alice['n'].tolist())")
    assert out.strip() == "[4]"
    # $b in a comment, a quoted identifier and a dollar-quoted string is text, not a variable
    _, _, err = run(kernel, '%%agno_sql -o odd\n'
                            'SELECT $$ $b $$ AS "$b", \'$b\' AS s -- $b is not a variable here\n'
                            'FROM runs WHERE user_id = $wanted LIMIT 1')
    assert err is None, err
    out, _, _ = run(kernel, "print(odd.to_dict('records'))")
    assert out.strip() == "[{'$b': ' $b ', 's': '$b'}]"
    _usage_error(kernel, "%agno_sql", "usage: %agno_sql")


def _usage_error(kc, code, expected):
    # IPython prints a UsageError (one line, no traceback) rather than raising it
    out, results, err = run(kc, code)
    assert err is None and not results and "UsageError" in out and expected in out, (out, err)


def test_agno_connect_argument_errors_are_usage_errors(kernel):
    _load(kernel)
    _usage_error(kernel, "%agno_connect", "source")
    _usage_error(kernel, f"%agno_connect {FIXTURES / 'agno-3.1-sqlite.db'} --session-table", "--session-table")
    _usage_error(kernel, "%agno_connect $no_such_variable", "no_such_variable")
    _, results, err = run(kernel, f"db_path = {str(FIXTURES / 'agno-3.1-sqlite.db')!r}\n%agno_connect $db_path")
    assert err is None and "SessionExplorer" in results[0], err


def test_bind_variables_uses_a_real_tokenizer():
    query = 'select $$ $b $$, "$c", \'$d\', $tag$ $e $tag$ -- $f\n, $a /* $g */ from t where x = $a'
    sql, params = bind_variables(query, {"a": 1})
    assert sql == query and params == {"a": 1}
    assert bind_variables("select 1 -- $gone", {}) == ("select 1 -- $gone", {})
