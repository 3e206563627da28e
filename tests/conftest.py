"""Shared fixtures: real SQLite files, the real local PostgreSQL and MariaDB/MySQL, a local OpenAI-compatible server.

PostgreSQL is the machine's own server (``AGNO_NB_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Every test gets a fresh schema,
named after this run, its process (each pytest-xdist worker is one) and a counter, so
runs and workers never see each other's rows. MySQL likewise (``AGNO_NB_TEST_MYSQL_URL``,
default ``mysql+pymysql://root@127.0.0.1:3306/test``): a fresh database (MySQL's schema)
per test, all of this run's dropped at the end. Without a server these tests skip
locally, but under ``CI=true`` they fail.

Also here: the git status guard (``_git_guard.py``: a run that changes the checkout
fails), ``--screenshots DIR`` for ``scripts/screenshots.sh``, the pytest-xdist scheduling
(the longest tests first; the modules with an expensive module-scoped setup on one worker
each), ``binder`` (``_venvs.py``), and ``agno_world_sqlite`` / ``agno_world_pg``: a database
real agno wrote with every feature on (``scripts/agno_world.py``), built once per run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from _git_guard import GitStatusGuard
from _once import build_once
from _venvs import BinderEnv, binder_environment
from agno_nb.db.sqlite import SqliteDb
from agno_nb.testing import FakeOpenAIServer

# Databases written by the real agno 3.1.10 and 2.9.0 (kept in the repository, so a plain
# clone tests itself).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("AGNO_NB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("AGNO_NB_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
RUN_TAG = f"t{uuid.uuid4().hex[:8]}"
_counter = itertools.count()


def _server_problem(url: str) -> str | None:
    """None if the database server at ``url`` answers, else why not."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return str(exc).splitlines()[0]


def _run_server(url: str, name: str, drop: str):
    """The server at ``url`` for this run; afterwards every schema this run made is dropped.

    Without a server the tests that need it skip locally, and fail under ``CI=true``.
    ``drop`` is the statement that drops one schema, with ``{}`` for its (quoted) name.
    """
    problem = _server_problem(url)
    if problem:
        msg = f"{name} at {url} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{msg} (CI=true: {name} is required)")
        pytest.skip(msg)
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schemas = conn.execute(sa.text("select schema_name from information_schema.schemata where schema_name like :p"),
                               {"p": f"{RUN_TAG}%"}).scalars().all()
        for schema in schemas:
            conn.execute(sa.text(drop.format(schema)))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_url():
    yield from _run_server(PG_URL, "PostgreSQL", 'drop schema "{}" cascade')


@pytest.fixture
def pg_schema(pg_url):
    """A fresh, empty schema name for one test."""
    return f"{RUN_TAG}_{os.getpid()}_{next(_counter)}"


@pytest.fixture(scope="session")
def mysql_url():
    yield from _run_server(MYSQL_URL, "MySQL/MariaDB", "drop database `{}`")


@pytest.fixture
def mysql_schema(mysql_url):
    """A fresh database name (MySQL's schema) for one test; created by the first write."""
    return f"{RUN_TAG}_{os.getpid()}_{next(_counter)}"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    """The storage backends every storage test runs on; tests/test_mysql.py runs chosen ones on "mysql"."""
    return request.param


@pytest.fixture
def make_db(backend, tmp_path, request):
    """Build a db of the parametrized backend: ``make_db(session_table=...)``."""
    made = []

    def make(**kwargs):
        if backend == "sqlite":
            db = SqliteDb(db_file=str(tmp_path / "agno.db"), **kwargs)
        elif backend == "mysql":
            from agno_nb.db.mysql import MySQLDb

            db = MySQLDb(db_url=request.getfixturevalue("mysql_url"),
                         db_schema=request.getfixturevalue("mysql_schema"), **kwargs)
        else:
            from agno_nb.db.postgres import PostgresDb

            schema = request.getfixturevalue("pg_schema")
            db = PostgresDb(request.getfixturevalue("pg_url"), db_schema=schema, **kwargs)
        made.append(db)
        return db
    yield make
    for db in made:
        db.close()


@pytest.fixture
def db(make_db):
    return make_db()


@pytest.fixture
def fixture_copy(tmp_path):
    """A writable copy of one of tests/fixtures (the originals stay untouched)."""
    def copy(name: str) -> str:
        dst = tmp_path / name
        dst.write_bytes((FIXTURES / name).read_bytes())
        return str(dst)
    return copy


@pytest.fixture
def openai_server():
    with FakeOpenAIServer(tool_args={"get_weather": {"city": "Paris"}}) as server:
        yield server


def _run_dir(tmp_path_factory) -> Path:
    """The folder of this test run, the same for all its pytest-xdist workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def binder(tmp_path_factory) -> BinderEnv:
    """The Binder environment (``binder/``), built once per run: the notebooks' kernel.

    Shared by the run's pytest-xdist workers: the first that asks builds it, the others
    wait for it (see ``_venvs.binder_environment``).
    """
    return binder_environment(_run_dir(tmp_path_factory) / "binder")




@dataclass(frozen=True)
class AgnoWorld:
    """A database real agno 3.1 wrote with every feature on (``scripts/agno_world.py``), and its
    manifest (what was made: session ids by feature, run ids, approval ids, ...). Read only."""

    manifest: dict
    path: Path | None = None  # SQLite
    url: str | None = None  # PostgreSQL
    schema: str | None = None

    def agno_db(self):
        """agno's own db object on this world."""
        if self.path is not None:
            from agno.db.sqlite import SqliteDb as AgnoSqliteDb

            return AgnoSqliteDb(db_file=str(self.path))
        from agno.db.postgres import PostgresDb as AgnoPostgresDb

        return AgnoPostgresDb(db_url=self.url, db_schema=self.schema)

    @property
    def source(self) -> str:
        """What ``agno_nb.connect`` takes for this world (on PostgreSQL with ``schema=``)."""
        return str(self.path) if self.path is not None else self.url


def _write_world(dest: Path, *args: str) -> None:
    """Run scripts/agno_world.py in a process of its own (tracing instruments the whole process)."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "agno_world.py"), *args,
                           "--manifest", str(dest / "manifest.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"scripts/agno_world.py {' '.join(args)} failed:\n{done.stderr[-5000:]}"


@pytest.fixture(scope="session")
def agno_world_sqlite(tmp_path_factory) -> AgnoWorld:
    """A SQLite file real agno 3.1 wrote with every feature on; built by the first worker that asks."""
    dest = _run_dir(tmp_path_factory) / "agno_world_sqlite"
    build_once(dest, lambda d: _write_world(d, "sqlite", str(d / "agno.db")), "the SQLite agno world")
    return AgnoWorld(manifest=json.loads((dest / "manifest.json").read_text()), path=dest / "agno.db")


def _world_schema() -> str:
    # The controlling process's tag (its workers inherit the variable, see pytest_configure):
    # the workers share one world, and only the controller, last to finish, drops it.
    return f"{os.environ.get('AGNO_NB_WORLD_TAG', RUN_TAG)}_world"


def _world_marker() -> Path:
    """Written once the PostgreSQL world exists, so the controller knows to drop it."""
    return Path(tempfile.gettempdir()) / f"agno_nb_{_world_schema()}.pg"


@pytest.fixture(scope="session")
def agno_world_pg(tmp_path_factory, pg_url) -> AgnoWorld:
    """The same world in a PostgreSQL schema of this run (and in the schema ``fs``, where agno
    puts the offloaded payloads: its rows are those whose namespace names the world's schema)."""
    dest, schema = _run_dir(tmp_path_factory) / "agno_world_pg", _world_schema()
    _world_marker().touch()  # before the build: a build that fails half way leaves rows too
    build_once(dest, lambda d: _write_world(d, "postgres", pg_url, schema), "the PostgreSQL agno world")
    return AgnoWorld(manifest=json.loads((dest / "manifest.json").read_text()), url=pg_url, schema=schema)


def _drop_pg_world() -> None:
    if not _world_marker().exists():
        return
    schema = _world_schema()
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
        if conn.execute(sa.text("select to_regclass('fs.agno_fs')")).scalar() is not None:
            conn.execute(sa.text("delete from fs.agno_fs where namespace like :p"),
                         {"p": f"tool-results/{schema}-%"})
    engine.dispose()
    _world_marker().unlink()


# -- the run itself -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser):
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="also copy the screenshots the browser tests take (docs' replay.png, compare.png) "
                          "into DIR once the test passed; scripts/screenshots.sh passes docs/img")


def _screenshots_target(config) -> Path | None:
    value = config.getoption("screenshots")
    return (Path(config.invocation_params.dir) / value).resolve() if value else None


def pytest_configure(config):
    # Only the controlling process compares git status (xdist workers have "workerinput").
    if not hasattr(config, "workerinput"):
        os.environ["AGNO_NB_WORLD_TAG"] = RUN_TAG  # a pytest run inside a test has its own
        target = _screenshots_target(config)
        guard = GitStatusGuard.for_checkout(ROOT, allowed=[target] if target else [])
        if guard is not None:
            config.pluginmanager.register(guard, "agno-nb-git-status-guard")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        _drop_pg_world()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def screenshot_dir(request, tmp_path) -> Path:
    """Where a test saves screenshots: a temporary folder, copied to ``--screenshots DIR`` if it passed."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    yield shots
    target = _screenshots_target(request.config)
    report = getattr(request.node, "report_call", None)
    if target is not None and report is not None and report.passed:
        target.mkdir(parents=True, exist_ok=True)
        for png in sorted(shots.glob("*.png")):
            shutil.copy(png, target / png.name)


# Modules whose tests share an expensive module-scoped setup (or import something heavy only
# they use): pytest-xdist gives each module's tests to one worker, as one unit, so the setup
# happens once per run instead of once per worker (see SharedSetupScheduling).
ONE_WORKER = {
    "tests/test_widgets_theme.py": "a JupyterLab and a Chromium",
    "tests/test_dist.py": "a Dask LocalCluster of two worker processes",
    "tests/test_otlp.py": "traces written by two instrumented processes",
    "tests/test_magics.py": "an IPython kernel",
    "tests/test_stats.py": "SciPy and matplotlib",
}

# Roughly how long the longest tests take (seconds of CPU, on the 2-core CI machine). Only
# the order depends on it: see pytest_collection_modifyitems. The notebook tests wait for
# the Binder environment (built once, by the first of them to start), so the first of them
# starts at once and the others come after other long tests.
HEAVY = {
    "tests/test_widgets_theme.py::": 70,  # ONE_WORKER modules: their tests run as one unit
    "tests/test_notebooks.py::test_notebook[06": 60,
    "tests/test_demo.py::test_demo_script": 50,
    "tests/test_widgets_browser_keys": 46,
    "tests/test_widgets_browser.py": 45,
    "tests/test_concurrency.py::test_eight_processes": 40,
    "tests/test_notebooks.py::test_notebook[04": 35,
    "tests/test_notebooks.py::test_notebook[02": 34,
    "tests/test_notebooks.py::test_notebook[03": 33,
    "tests/test_otlp.py::": 32,
    "tests/test_dist.py::": 31,
    "tests/test_mysql.py::test_connect_reads_mysql_like_sqlite": 30,
    "tests/test_binder.py::": 30,
    "tests/test_notebooks.py::test_postgres_notebook": 25,
    "tests/test_notebooks.py::test_notebook[05": 21,
    "tests/test_notebooks.py::test_notebook[01": 20,
    "tests/test_mysql.py::test_eight_processes": 20,
    "tests/test_same_process_writer.py::test_real_agno_agent": 18,
    "tests/test_durability.py::test_ten_processes": 16,
    "tests/test_properties.py::": 15,
    "tests/test_same_process_writer.py::test_agno_nb_agent": 15,
    # the first test of each backend builds the world (scripts/agno_world.py) the others share
    "tests/test_agno_world.py::test_manifest_names_what_was_written[postgres]": 15,
    "tests/test_agno_world.py::test_manifest_names_what_was_written[sqlite]": 12,
}


def _weight(item) -> int:
    return max((w for prefix, w in HEAVY.items() if item.nodeid.startswith(prefix)), default=0)


def pytest_collection_modifyitems(config, items):
    """Longest tests first, each followed by a short one, so that pytest-xdist (scripts/test.sh,
    SharedSetupScheduling) hands the long ones to different workers at once.

    xdist gives each worker two units (a test, or a ONE_WORKER module's tests) to start with,
    then one at a time in this order to whichever worker is nearly done. Every test still
    runs; only the order changes. Without xdist (``-n 0``) the order stays as collected.
    """
    if not hasattr(config, "workerinput"):
        return
    heavy = sorted((i for i in items if _weight(i)), key=_weight, reverse=True)
    light = [i for i in items if not _weight(i)]
    ordered = []
    for n, item in enumerate(heavy):
        ordered.append(item)
        if n < len(light):
            ordered.append(light[n])
    ordered += light[len(heavy):]
    items[:] = ordered


@pytest.hookimpl(optionalhook=True)  # an xdist hook: fine without xdist (-p no:xdist)
def pytest_xdist_make_scheduler(config, log):
    """``--dist load`` (scripts/test.sh) as SharedSetupScheduling; other modes as xdist has them."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetupScheduling(LoadScopeScheduling):
        """pytest-xdist's load scheduling in conftest's order, except that the tests of each
        ONE_WORKER module go to one worker as one unit.

        (xdist's own ``--dist loadgroup`` does this for ``xdist_group`` marks, but with pytest
        9.2 it silently stops grouping: pytest-xdist issue #1386.)
        """

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    config.option.loadscopereorder = False  # keep pytest_collection_modifyitems' order
    return SharedSetupScheduling(config, log)
