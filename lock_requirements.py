"""Regenerate the hashed lock files from the requirement ranges, or check that they are fresh.

    python lock_requirements.py            rewrite the locks (keeps every pin that still fits its range)
    python lock_requirements.py --upgrade  also move every pin to the newest version its range allows
    python lock_requirements.py --check    exit 1 and show the difference if a lock is stale

Runs uv (pinned in requirements-dev.txt) as `python -m uv`, so the uv of this interpreter's environment resolves.
The dev lock is resolved first; the runtime and policy-pack locks are resolved under it as a constraint, so
`pulumi up` installs exactly the versions the tests ran with.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COMMAND = "python lock_requirements.py"
PYTHON_VERSION = "3.11"  # the oldest Python the project supports (pyproject.toml target-version)


@dataclass(frozen=True)
class Lock:
    output: str
    source: str
    constraint: str | None = None
    # Locked (and installed, `pip install --no-deps`) without the packages' own dependencies: see the source file.
    no_deps: bool = False


# In resolution order: a lock's constraint is resolved before it.
LOCKS = (
    Lock("requirements-dev.lock", "requirements-dev.txt"),
    Lock("requirements.lock", "requirements.txt", constraint="requirements-dev.lock"),
    Lock("policy/requirements.lock", "policy/requirements.txt", constraint="requirements-dev.lock"),
    Lock("requirements-no-deps.lock", "requirements-no-deps.txt", constraint="requirements-dev.lock", no_deps=True),
)


class LockError(Exception):
    pass


def pinned_uv(root: Path = ROOT) -> str:
    match = re.search(r"^uv==(\S+)", (root / "requirements-dev.txt").read_text(), re.MULTILINE)
    if match is None:
        raise LockError("requirements-dev.txt pins no uv (uv==X.Y.Z): the locks are written by that uv")
    return match.group(1)


def check_uv(root: Path = ROOT) -> None:
    """Another uv may resolve or format differently: refuse to write locks with it."""
    wanted = pinned_uv(root)
    try:
        have = metadata.version("uv")
    except metadata.PackageNotFoundError:
        have = None
    if have != wanted:
        raise LockError(
            f"uv {have or 'is not installed'}{' is installed' if have else ''}; the locks are written by "
            f"uv=={wanted} (requirements-dev.txt): {sys.executable} -m pip install uv=={wanted}"
        )


def uv_command(lock: Lock, *, upgrade: bool = False, offline: bool = False) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "uv",
        "pip",
        "compile",
        lock.source,
        "--output-file",
        lock.output,
        # One lock for every platform (Linux CI, macOS laptops) and every supported Python from 3.11.
        "--universal",
        "--python-version",
        PYTHON_VERSION,
        "--generate-hashes",
        "--custom-compile-command",
        COMMAND,
        "--quiet",
    ]
    if lock.constraint is not None:
        command += ["--constraint", lock.constraint]
    if lock.no_deps:
        command.append("--no-deps")
    if upgrade:
        command.append("--upgrade")
    if offline:
        command.append("--offline")
    return command


def write_locks(root: Path = ROOT, *, upgrade: bool = False, cache_first: bool = False) -> None:
    """With cache_first, each lock is first resolved from uv's cache alone (a second, not the index's round
    trips) and from the index only when the cache lacks something."""
    check_uv(root)
    for lock in LOCKS:
        result = None
        if cache_first:
            result = subprocess.run(
                uv_command(lock, upgrade=upgrade, offline=True), cwd=root, capture_output=True, text=True, check=False
            )
        if result is None or result.returncode != 0:
            result = subprocess.run(
                uv_command(lock, upgrade=upgrade), cwd=root, capture_output=True, text=True, check=False
            )
        if result.returncode != 0:
            raise LockError(f"{lock.output}: uv could not resolve {lock.source}:\n{result.stderr.strip()}")


def stale_locks(root: Path = ROOT) -> dict[str, str]:
    """Regenerate every lock in a scratch copy of the requirement files and the current locks (uv keeps a pin
    that still fits, so a fresh lock comes back byte for byte). Returns {lock: unified diff} of the stale ones."""
    sources = {lock.source for lock in LOCKS} | {lock.output for lock in LOCKS}
    sources |= {path.name for path in root.glob("requirements*.txt")}  # the files `-r` pulls in
    with tempfile.TemporaryDirectory(prefix="lock-check-") as scratch:
        copy = Path(scratch)
        for name in sorted(sources):
            if (root / name).is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / name, copy / name)
        write_locks(copy, cache_first=True)
        stale = {}
        for lock in LOCKS:
            old = (root / lock.output).read_text() if (root / lock.output).is_file() else ""
            new = (copy / lock.output).read_text()
            if old != new:
                diff = difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), lock.output, "regenerated"
                )
                stale[lock.output] = "".join(diff)
        return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report stale locks (exit 1 if any)")
    mode.add_argument("--upgrade", action="store_true", help="move every pin to the newest allowed version")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_locks()
            for name, diff in stale.items():
                print(f"{name} is stale; run: {COMMAND}\n{diff}", file=sys.stderr)
            return 1 if stale else 0
        write_locks(upgrade=args.upgrade)
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(lock.output for lock in LOCKS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
