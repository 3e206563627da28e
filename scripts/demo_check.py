"""The check scripts/demo.sh runs before it serves JupyterLab: the notebooks' kernel works.

Starts the kernel JupyterLab gives the notebooks (the ``python3`` kernelspec, which demo.sh
makes .venv's Python) in the notebooks' folder, and there imports every module the
tutorials import or load as an IPython extension (read from the notebooks, so the list
keeps up with them) and reads the demo database. Takes seconds, where executing every
notebook took minutes; the tests execute each notebook (tests/test_notebooks.py).

    python scripts/demo_check.py notebooks      # exit status 1, with the kernel's error, on failure
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
from pathlib import Path


def tutorial_imports(notebooks: Path) -> tuple[list[str], list[str]]:
    """(modules the notebooks import, IPython extensions they load), each sorted."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager()  # %magics and %%cell magics become get_ipython() calls
    modules, extensions = set(), set()
    for path in sorted(notebooks.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(python.transform_cell(cell.source))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module)
                elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "run_line_magic"
                      and [getattr(a, "value", None) for a in node.args[:1]] == ["load_ext"]):
                    extensions.update(node.args[1].value.split())
    return sorted(modules), sorted(extensions)


PROBE = """\
import importlib, json, sys
import agno_nb
for _name in {modules!r}:
    importlib.import_module(_name)
for _name in {extensions!r}:
    get_ipython().run_line_magic("load_ext", _name)
print(json.dumps({{"python": sys.executable, "agno_nb": agno_nb.__file__,
                  "sessions": len(agno_nb.connect("demo.db").sessions())}}))
"""


def main(argv: list[str]) -> int:
    from jupyter_client.manager import start_new_kernel

    notebooks = Path(argv[0] if argv else "notebooks").resolve()
    modules, extensions = tutorial_imports(notebooks)
    log = tempfile.TemporaryFile("w+")  # the kernel's own stderr: shown only if the check fails
    try:
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(notebooks), startup_timeout=120, stderr=log)
    except Exception as exc:  # noqa: BLE001 - any failure to start is the finding
        log.seek(0)
        print(f"error: the notebooks' kernel did not start: {exc}\n{log.read()[-5000:]}", file=sys.stderr)
        return 1
    out, errors = [], []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            errors.append("\n".join(msg["content"]["traceback"]))

    try:
        kc.execute_interactive(PROBE.format(modules=modules, extensions=extensions), timeout=300, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if errors or not out:
        log.seek(0)
        print("error: the notebooks' kernel failed:\n" + "\n".join(errors or [log.read()[-5000:] or "(no output)"]),
              file=sys.stderr)
        return 1
    report = json.loads("".join(out).strip().splitlines()[-1])
    print(f"kernel check: the notebooks' python3 kernel runs {report['python']}, agno_nb from {report['agno_nb']}")
    print(f"kernel check: it imports the {len(modules)} modules the notebooks use: {', '.join(modules)}")
    print(f"kernel check: it loads the IPython extensions {', '.join(extensions) or '(none)'}")
    print(f"kernel check: demo.db holds {report['sessions']} sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
