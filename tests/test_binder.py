"""Binder: the environment built from ``binder/`` alone is the one every notebook runs in.

A fresh virtual environment gets ``binder/requirements.txt``, then ``binder/postBuild``
runs from a copy of the repository with that environment first on PATH, as repo2docker
does (``_venvs.binder_environment``, built once per run). Its kernelspec is the kernel
``tests/test_notebooks.py`` runs every notebook in under nbval, so those tests prove that
Binder's environment runs each notebook; this one proves that the kernel is that
environment's Python with the copy's agno_nb, that nothing of the test environment is in
it, and what postBuild did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from _venvs import BINDER_KERNEL, ROOT, clean_env

pytestmark = pytest.mark.slow

PROBE = """\
import importlib.metadata, json, sys, agno_nb
print(json.dumps({"prefix": sys.prefix, "agno_nb": agno_nb.__file__,
                  "dists": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions())}))
"""

# the kernel of the Binder kernelspec, started as nbval starts it, runs PROBE
KERNEL_PROBE = """\
import json, sys
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name=sys.argv[1], cwd=sys.argv[2], startup_timeout=120)
try:
    out = []
    kc.execute_interactive(sys.argv[3], timeout=120,
                           output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    print("".join(out))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
"""


def test_binder_environment_is_the_notebooks_kernel_and_postbuild_ran(binder, tmp_path):
    import pandas as pd

    import agno_nb
    from agno_nb.demo import build

    spec = json.loads((binder.jupyter_path / "kernels" / BINDER_KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == str(binder.python)
    proc = subprocess.run([sys.executable, "-c", KERNEL_PROBE, BINDER_KERNEL, str(binder.repo / "notebooks"), PROBE],
                          env=binder.kernel_env(clean_env(os.environ)), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    # the kernel is the Binder venv's Python, with agno_nb installed (editable) from the repository copy
    assert report["prefix"] == str(binder.venv)
    assert report["agno_nb"].startswith(str(binder.repo / "agno_nb"))
    # only binder/requirements.txt's pins (and the venv's pip/setuptools) plus agno_nb: none of the test extra
    pinned = {line.split("==")[0].split("[")[0].lower().replace("_", "-")
              for line in (binder.repo / "binder" / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    extra = {d.replace("_", "-") for d in report["dists"]} - pinned
    assert extra <= {"agno-nb", "pip", "setuptools", "wheel"}, extra
    assert not {"pytest", "nbval", "agno", "hypothesis", "playwright", "uv"} & set(report["dists"])
    # postBuild: pip check passed, and the tutorials' demo database is the deterministic demo
    assert "No broken requirements found." in binder.postbuild_output
    # the committed database notebook 07 reads is in the copy, byte for byte
    world = "notebooks/data/agno-3.1-everything.db"
    assert (binder.repo / world).read_bytes() == (ROOT / world).read_bytes()
    demo_db = binder.repo / "notebooks" / "demo.db"
    assert demo_db.stat().st_size > 100_000
    built, fresh = agno_nb.connect(demo_db), agno_nb.connect(build(tmp_path / "demo.db"))
    for table in ("sessions", "runs"):
        pd.testing.assert_frame_equal(built.table(table), fresh.table(table))
