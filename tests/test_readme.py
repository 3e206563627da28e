"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs(tmp_path, monkeypatch, capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert "Echo: What is the capital of France?" in capsys.readouterr().out
    assert len(namespace["agent"].get_session(session_id="session_123").runs) == 1
    assert len(namespace["ex"].messages()) == 2


def test_readme_opens_with_the_two_commands():
    lines = [l for l in README.read_text().splitlines() if l.strip()]
    assert lines[2].startswith("bash scripts/demo.sh") and lines[3].startswith("bash scripts/test.sh")
    # .ci/run runs exactly the second one: tests/test_repo_hygiene.py
