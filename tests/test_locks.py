"""The hashed lock files: fresh against the requirement ranges, complete, and the only thing CI and `pulumi up`
install from."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import lock_requirements
from lock_requirements import LOCKS, ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;.*?)? \\$")


def locked(lock_file: Path) -> dict[str, list[str]]:
    """{package: [versions]} of a lock (a package may be pinned per Python version under markers), asserting that
    each pin carries at least one hash."""
    pins: dict[str, list[str]] = {}
    lines = lock_file.read_text().splitlines()
    for index, line in enumerate(lines):
        match = PIN.match(line)
        if match is None:
            assert not re.match(r"^[A-Za-z0-9]", line), f"{lock_file.name}: not a hashed pin: {line}"
            continue
        assert lines[index + 1].strip().startswith("--hash=sha256:"), f"{lock_file.name}: {line} has no hash"
        pins.setdefault(canonicalize_name(match.group(1)), []).append(match.group(2))
    return pins


def requirements(source: Path) -> list[Requirement]:
    """The requirements of a requirements file and of the files it pulls in with `-r`."""
    out = []
    for raw in source.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out += requirements(source.parent / line[3:].strip())
        elif line:
            out.append(Requirement(line))
    return out


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.output)
def test_every_requirement_is_pinned_with_hashes_within_its_range(lock):
    pins = locked(ROOT / lock.output)
    assert pins, lock.output
    for requirement in requirements(ROOT / lock.source):
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{lock.output} lacks {requirement.name} ({lock.source}); run: {lock_requirements.COMMAND}"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock.output} pins {requirement.name}=={version} outside {requirement} ({lock.source}); "
                f"run: {lock_requirements.COMMAND}"
            )


def test_runtime_and_policy_locks_pin_what_the_tests_ran_with():
    dev = locked(ROOT / "requirements-dev.lock")
    for lock in LOCKS[1:]:
        if lock.no_deps:
            # Installed beside the dev lock without dependencies: its packages are the ones the dev lock must not
            # resolve (requirements-no-deps.txt says why for each).
            assert not set(locked(ROOT / lock.output)) & set(dev), f"{lock.output} repeats packages of the dev lock"
            continue
        for name, versions in locked(ROOT / lock.output).items():
            assert set(versions) <= set(dev.get(name, [])), f"{lock.output}: {name} {versions} vs dev {dev.get(name)}"


def test_locks_are_fresh():
    # uv re-resolves every lock from the requirement files; a fresh lock comes back byte for byte.
    stale = lock_requirements.stale_locks()
    assert stale == {}, f"stale locks; run: {lock_requirements.COMMAND}\n" + "\n".join(stale.values())


def test_a_requirement_added_without_relocking_makes_its_lock_stale(tmp_path):
    # The freshness check can fail: a new direct requirement (already locked as a dependency, so no download)
    # changes the lock's provenance lines and the check reports it.
    for name in {lock.source for lock in LOCKS} | {lock.output for lock in LOCKS}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for path in ROOT.glob("requirements*.txt"):
        shutil.copy2(path, tmp_path / path.name)
    assert lock_requirements.stale_locks(tmp_path) == {}
    with (tmp_path / "requirements.txt").open("a") as requirements_txt:
        requirements_txt.write("packaging\n")
    stale = lock_requirements.stale_locks(tmp_path)
    assert "requirements.lock" in stale and "+    #   -r requirements.txt" in stale["requirements.lock"]


def install_lines() -> list[tuple[str, str]]:
    files = [ROOT / ".ci" / "run", *ROOT.glob(".github/workflows/*.yml"), *ROOT.glob(".github/actions/*/action.yml")]
    return [
        (path.name, line.strip())
        for path in files
        for line in path.read_text().splitlines()
        if re.search(r"pip install", line)
    ]


def test_ci_and_pulumi_up_install_only_from_the_hashed_locks():
    lines = install_lines()
    assert any(name == "run" for name, _ in lines)  # .ci/run installs
    lock_names = {lock.output for lock in LOCKS}
    for name, line in lines:
        match = re.search(r"--require-hashes (?:--no-deps )?-r (\S+)(?:\s|$)", line)
        assert match and match.group(1) in lock_names, f"{name}: installs outside the hashed locks: {line}"
