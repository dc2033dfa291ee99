"""The bad-input corpus: every file in tests/bad_inputs/ is an invalid stack config that declares the key path
its error must name (`# expect-path:`) and words the message must contain (`# expect-message:`). Each goes
through the render command: exit status 2, the message on stderr, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli import render

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))


def expectations(case: Path) -> tuple[str, str]:
    side = case.with_suffix(".expect")
    text = side.read_text() if side.exists() else case.read_text()
    path = re.search(r"^#? ?(?:expect-)?path: (.+)$", text, re.M)
    message = re.search(r"^#? ?(?:expect-)?message: (.+)$", text, re.M)
    assert path and message, f"{case.name} must declare expect-path and expect-message"
    return path.group(1).strip().replace("<file>", str(case)), message.group(1).strip()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_bad_input_is_refused_with_its_key(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, message = expectations(case)
    out = tmp_path / "out"
    # `# render-args: ...`: options a case needs (e.g. --strict-secrets: an unset secret key errs as under `up`).
    extra = re.search(r"^# render-args: (.+)$", case.read_text(), re.M)
    options = extra.group(1).split() if extra else []
    status = render.main(["--stack", "bad", "--config-file", str(case), "--out", str(out), *options])
    stderr = capsys.readouterr().err
    assert status == 2, stderr
    # `- models[0].minReplicas (models/my-model): ...`: the model's namespace/name stands beside its index.
    names = re.compile(rf"- {re.escape(path)}( \([^)]+\))?: ")
    line = next((line for line in stderr.splitlines() if names.match(line.strip())), None)
    assert line is not None, f"no error names {path!r}:\n{stderr}"
    assert message in line, f"{message!r} not in the error for {path}: {line}"
    assert not out.exists(), "nothing may be written for an invalid config"
