""".ci/run, run in a scratch copy with stand-ins for python3 and e2e/toolchain.sh: the toolchain builds in the background
while the unit tests run; a failed install or unit suite fails CI and stops that build; a failed background build
is reported and the README's toolchain command runs again before the end-to-end suite."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Logs each call; the exit statuses come from FAKE_* variables. The install waits for the background build to start;
# the unit suite notes whether it was still running.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "python3 $*" >> "$CI_LOG"
case "$*" in
  --version) echo "Python 3.fake" ;;
  "-m pip install -q --require-hashes -r requirements-dev.lock")
    for _ in $(seq 100); do [ -s "$CI_STATE/background.pid" ] && break; sleep 0.05; done
    exit "${FAKE_PIP_STATUS:-0}" ;;
  "-m pip install -q --require-hashes --no-deps -r requirements-no-deps.lock") exit 0 ;;
  "-m pytest -q")
    if kill -0 "$(cat "$CI_STATE/background.pid")" 2>/dev/null; then echo "unit suite while building" >> "$CI_LOG"; fi
    exit "${FAKE_UNIT_STATUS:-0}" ;;
  "-m pytest -q -m e2e tests/end_to_end") exit "${FAKE_E2E_STATUS:-0}" ;;
  *) echo "unexpected python3 $*" >&2; exit 99 ;;
esac
"""

# The first call is the background build: it runs until the unit suite has ended (or FAKE_BACKGROUND_SECONDS) and
# records a TERM; later calls are the README's command.
FAKE_TOOLCHAIN = """set -u
if [ ! -e "$CI_STATE/background.pid" ]; then
  echo $$ > "$CI_STATE/background.pid"
  echo "background toolchain build says hello"
  sleep "${FAKE_BACKGROUND_SECONDS:-2}" &
  child=$!
  trap 'kill $child; echo terminated > "$CI_STATE/background.terminated"; exit 143' TERM
  wait $child
  exit "${FAKE_BACKGROUND_STATUS:-0}"
fi
echo "bash e2e/toolchain.sh" >> "$CI_LOG"
exit "${FAKE_TOOLCHAIN_STATUS:-0}"
"""


@pytest.fixture
def ci(tmp_path: Path) -> Path:
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "toolchain.sh").write_text(FAKE_TOOLCHAIN)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").write_text(FAKE_PYTHON)
    (tmp_path / "bin" / "python3").chmod(0o755)
    (tmp_path / "state").mkdir()
    return tmp_path


def run_ci(ci: Path, **fake: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    env = {
        **os.environ,
        "PATH": f"{ci / 'bin'}:{os.environ['PATH']}",
        "CI_LOG": str(ci / "calls.log"),
        "CI_STATE": str(ci / "state"),
        **{f"FAKE_{key.upper()}": value for key, value in fake.items()},
    }
    run = subprocess.run(
        ["bash", str(ci / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    log = ci / "calls.log"
    return run, log.read_text().splitlines() if log.exists() else []


UNIT = [
    "python3 --version",
    "python3 -m pip install -q --require-hashes -r requirements-dev.lock",
    "python3 -m pip install -q --require-hashes --no-deps -r requirements-no-deps.lock",
    "python3 -m pytest -q",
    "unit suite while building",
]
E2E = ["bash e2e/toolchain.sh", "python3 -m pytest -q -m e2e tests/end_to_end"]


def test_the_unit_suite_runs_while_the_toolchain_builds_then_the_end_to_end_suite(ci: Path) -> None:
    run, calls = run_ci(ci)
    assert run.returncode == 0, run.stderr
    assert calls == UNIT + E2E
    assert "background toolchain build says hello" in run.stdout


def background_stopped(ci: Path) -> bool:
    pid = int((ci / "state" / "background.pid").read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return (ci / "state" / "background.terminated").exists()
    os.kill(pid, signal.SIGKILL)
    return False


def test_a_failed_unit_suite_fails_ci_and_stops_the_background_build(ci: Path) -> None:
    run, calls = run_ci(ci, unit_status="1", background_seconds="300")
    assert run.returncode == 1
    assert calls == UNIT
    assert background_stopped(ci)


def test_a_failed_install_fails_ci_before_the_unit_suite(ci: Path) -> None:
    """set -e does not stop at a failed command inside an && list unless it is the last one."""
    run, calls = run_ci(ci, pip_status="2", background_seconds="300")
    assert run.returncode == 2
    assert calls == UNIT[:2]
    assert background_stopped(ci)


def test_a_failed_background_build_is_reported_and_the_readme_command_runs_again(ci: Path) -> None:
    run, calls = run_ci(ci, background_status="5")
    assert run.returncode == 0, run.stderr
    assert calls == UNIT + E2E
    assert "background toolchain build says hello" in run.stdout
    assert "the background toolchain build failed (exit status 5)" in run.stdout


@pytest.mark.parametrize(("fake", "calls_made"), [({"toolchain_status": "3"}, E2E[:1]), ({"e2e_status": "4"}, E2E)])
def test_a_failed_end_to_end_step_fails_ci(ci: Path, fake: dict[str, str], calls_made: list[str]) -> None:
    run, calls = run_ci(ci, **fake)
    assert run.returncode == int(next(iter(fake.values())))
    assert calls == UNIT + calls_made
