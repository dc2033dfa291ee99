"""e2e/toolchain.sh and its library (e2e/toolchain/lib.sh), run on stand-in parts in a scratch copy: the parts build
at the same time, each line prefixed with its name, every failure named; an interrupted build stops every process it
started and leaves nothing that looks finished; a wrapper module's pin that disagrees with versions.env is named with
both files and the key."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def e2e(tmp_path: Path) -> Path:
    """A copy of e2e/toolchain.sh, versions.env and the library, with no parts yet (tests add stand-ins)."""
    (tmp_path / "e2e" / "toolchain").mkdir(parents=True)
    for name in ("toolchain.sh", "versions.env", "toolchain/lib.sh"):
        shutil.copy2(ROOT / "e2e" / name, tmp_path / "e2e" / name)
    (tmp_path / "cache").mkdir()
    return tmp_path / "e2e"


def add_part(e2e: Path, name: str, body: str) -> None:
    (e2e / "toolchain" / f"{name}.sh").write_text(f'set -euo pipefail\ncache="$KSERVE_PLATFORM_CACHE"\n{body}\n')


def env(e2e: Path) -> dict[str, str]:
    return {**os.environ, "KSERVE_PLATFORM_CACHE": str(e2e.parent / "cache")}


def toolchain(e2e: Path, *parts: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(e2e / "toolchain.sh"), *parts],
        capture_output=True,
        text=True,
        env=env(e2e),
        timeout=timeout,
        check=False,
    )


# Each stand-in announces itself, then waits (up to 20 s) for the other: run one after the other, the first gives up.
MEET = """touch "$cache/{me}.started"
for _ in $(seq 200); do [ -e "$cache/{other}.started" ] && break; sleep 0.1; done
[ -e "$cache/{other}.started" ] || {{ echo "{me} never met {other}"; exit 9; }}
echo "{me} met {other}"
"""


def test_parts_build_at_the_same_time_with_prefixed_lines_and_every_failure_named(e2e: Path) -> None:
    add_part(e2e, "alpha", MEET.format(me="alpha", other="beta") + "echo 'alpha: broken' >&2; exit 3")
    add_part(e2e, "beta", MEET.format(me="beta", other="alpha"))
    add_part(e2e, "gamma", "exit 4")
    run = toolchain(e2e)
    assert run.returncode != 0
    assert "[alpha] alpha met beta\n" in run.stdout and "[beta] beta met alpha\n" in run.stdout
    assert "[alpha] alpha: broken\n" in run.stdout
    assert "toolchain: beta ready in " in run.stdout
    assert "toolchain: alpha FAILED (exit status 3)" in run.stderr
    assert "toolchain: gamma FAILED (exit status 4)" in run.stderr
    assert "toolchain: failed: alpha gamma\n" in run.stderr


def test_the_library_is_not_a_part_and_one_part_runs_alone(e2e: Path) -> None:
    add_part(e2e, "alpha", 'echo "alpha built"')
    add_part(e2e, "beta", 'echo "beta built"')
    alone = toolchain(e2e, "beta")
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.splitlines()[0] == "[beta] beta built" and "alpha" not in alone.stdout
    everything = toolchain(e2e)
    assert everything.returncode == 0, everything.stderr
    assert "[lib]" not in everything.stdout and "toolchain: lib " not in everything.stdout
    unknown = toolchain(e2e, "lib")
    assert unknown.returncode == 2
    assert "no part named 'lib'; the parts: alpha beta" in unknown.stderr


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_an_interrupted_build_stops_every_build_it_started_and_installs_nothing(e2e: Path) -> None:
    # A part that, like cluster.sh, runs builds of its own through run_all; each build sleeps in a child process.
    add_part(
        e2e,
        "nested",
        """. "$(dirname "$0")/lib.sh"
build() {
  out="$(partial_path "$cache/$1/v1")"
  mkdir "$out"
  sleep 300 &
  echo $! > "$cache/$1.pid"
  wait
  finish_install "$cache/$1/v1"
}
run_all build one two""",
    )
    started = subprocess.Popen(["bash", str(e2e / "toolchain.sh")], env=env(e2e), stdout=subprocess.DEVNULL)
    cache = e2e.parent / "cache"
    pid_files = [cache / "one.pid", cache / "two.pid"]
    sleepers: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while not all(path.exists() and path.read_text().strip() for path in pid_files):
            assert time.monotonic() < deadline, "the builds never started"
            time.sleep(0.05)
        sleepers = [int(path.read_text()) for path in pid_files]
        started.send_signal(signal.SIGTERM)
        assert started.wait(timeout=20) == 143
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in sleepers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in sleepers if alive(pid)] == []
        assert not (cache / "one" / "v1").exists() and not (cache / "two" / "v1").exists()
    finally:
        started.kill()
        for pid in sleepers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_failed_build_leaves_only_its_partial_folder_and_the_next_run_finishes_it(e2e: Path) -> None:
    add_part(
        e2e,
        "tool",
        """. "$(dirname "$0")/lib.sh"
out="$(partial_path "$cache/tool/v1")"
mkdir "$out"
echo built > "$out/binary"
[ -e "$cache/fixed" ]
finish_install "$cache/tool/v1"
""",
    )
    cache = e2e.parent / "cache"
    assert toolchain(e2e).returncode != 0
    assert not (cache / "tool" / "v1").exists() and (cache / "tool" / "v1.partial" / "binary").exists()
    (cache / "fixed").touch()
    assert toolchain(e2e).returncode == 0
    assert (cache / "tool" / "v1" / "binary").read_text() == "built\n" and not (cache / "tool" / "v1.partial").exists()


GO_MOD = """module kserve-platform.local/e2e/demo

go 1.24

tool example.com/tool/cmd/tool

require example.com/direct v1.0.0

require (
\texample.com/tool v1.2.3 // indirect
\texample.com/other v0.1.0 // indirect
)

replace example.com/other => example.com/tool v9.9.9
"""


@pytest.mark.parametrize(
    ("module", "pinned", "error"),
    [
        ("example.com/tool", "v1.2.3", ""),
        ("example.com/direct", "v1.0.0", ""),
        (
            "example.com/tool",
            "v1.2.4",
            "e2e/versions.env pins DEMO_VERSION=v1.2.4 but e2e/toolchain/modules/demo/go.mod requires example.com/tool"
            " v1.2.3; change both together (then `go mod tidy` in e2e/toolchain/modules/demo)",
        ),
        ("example.com/missing", "v1.0.0", "requires example.com/missing at no version;"),
    ],
    ids=["in-block", "single-line", "disagrees", "not-required"],
)
def test_require_pin_names_both_files_and_the_key(e2e: Path, module: str, pinned: str, error: str) -> None:
    (e2e / "toolchain" / "modules" / "demo").mkdir(parents=True)
    (e2e / "toolchain" / "modules" / "demo" / "go.mod").write_text(GO_MOD)
    run = subprocess.run(
        ["bash", "-c", f'. "$0"; require_pin demo {module} DEMO_VERSION; echo pinned', e2e / "toolchain" / "lib.sh"],
        capture_output=True,
        text=True,
        env={**env(e2e), "DEMO_VERSION": pinned},
        timeout=30,
        check=False,
    )
    if error:
        assert run.returncode == 1 and error in run.stderr and "pinned" not in run.stdout
    else:
        assert run.returncode == 0 and run.stdout == "pinned\n", run.stderr


def test_the_library_refuses_to_run_as_a_script() -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "e2e" / "toolchain" / "lib.sh")], capture_output=True, text=True, timeout=30, check=False
    )
    assert run.returncode == 2 and "source it, do not run it" in run.stderr
