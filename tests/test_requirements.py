"""The dev install: CPU-only builds, no CUDA library, and the packages installed without their dependencies
(requirements-no-deps.txt) find everything they import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from config.models import ModelConfig
from localserve import preflight
from tests.conftest import PROJECT_DIR

NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_names(file: Path) -> list[str]:
    """Package names a requirements file installs, following `-r` includes."""
    names = []
    for raw in file.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names += requirement_names(file.parent / line[2:].strip())
        elif line and not line.startswith("-"):
            names.append(NAME.match(line).group(1).lower().replace("_", "-"))
    return names


def test_dev_install_takes_the_cpu_build_of_xgboost() -> None:
    dev = requirement_names(PROJECT_DIR / "requirements-dev.txt")
    # The `xgboost` wheel depends on nvidia-nccl-cu12 on Linux x86_64; `xgboost-cpu` ships the same module.
    assert "xgboost-cpu" in dev and "xgboost" not in dev
    assert not [name for name in dev if name.startswith("nvidia-")]
    # mlserver-xgboost asks for `xgboost` by name: installed without dependencies only.
    assert "mlserver-xgboost" not in dev
    assert "mlserver-xgboost" in requirement_names(PROJECT_DIR / "requirements-no-deps.txt")


def test_no_deps_file_has_no_includes_and_pins_every_package() -> None:
    lines = [
        line.strip()
        for line in (PROJECT_DIR / "requirements-no-deps.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", line) for line in lines), lines


def test_packages_installed_without_dependencies_import_and_work() -> None:
    pytest.importorskip("mlserver", reason="MLServer is optional: pip install -r requirements-mlserver.txt")
    probe = (
        "import importlib.metadata as m, xgboost, mlserver_xgboost, pulumi_policy, google.protobuf as pb;"
        "print(m.version('xgboost-cpu'), xgboost.__version__, pb.__version__)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, (
        "install as the README says: pip install -r requirements-dev.txt && "
        f"pip install --no-deps -r requirements-no-deps.txt\n{result.stderr}"
    )
    cpu_version, module_version, _ = result.stdout.split()
    assert cpu_version == module_version, "the xgboost module is the CPU build's"


def test_missing_xgboost_runtime_is_installed_without_its_dependencies(monkeypatch) -> None:
    monkeypatch.setattr(preflight, "_version", {"mlserver": "1.7.1"}.get)
    real = preflight.importlib.util.find_spec
    monkeypatch.setattr(
        preflight.importlib.util, "find_spec", lambda name: None if name == "mlserver_xgboost" else real(name)
    )
    model = ModelConfig.model_validate(
        {"name": "x", "namespace": "ns", "format": "xgboost", "storageUri": "gs://bkt/x"}
    )
    (problem,) = preflight.problems(model, 0)
    assert "pip install --no-deps -r requirements-no-deps.txt" in problem


def locked_names(*locks: str) -> set[str]:
    """Distribution names the hashed lock files install (normalised as pip compares them)."""
    names = set()
    for lock in locks:
        for line in (PROJECT_DIR / lock).read_text(encoding="utf-8").splitlines():
            if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line):
                names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def imported_top_level_modules() -> dict[str, str]:
    """Top-level module -> the first project file importing it, over every Python file git tracks."""
    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    found: dict[str, str] = {}
    for relative in files:
        tree = ast.parse((PROJECT_DIR / relative).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], relative)
    return found


# Imported only where a user asks for them, with an error naming what to install (localserve/artifacts.py `_need`).
OPTIONAL_IMPORTS = {"__future__", "boto3"}


def test_every_module_the_project_imports_is_installed_by_the_ci_locks() -> None:
    # CI starts from a fresh machine and installs only the locks: a package that happens to be on a developer's
    # machine (cryptography, which the end-to-end harness makes its certificates with, once was) must be locked.
    locked = locked_names("requirements-dev.lock", "requirements-no-deps.lock")
    # Project modules, also those tests and scripts import as siblings (their folder is on sys.path).
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    local = {part.removesuffix(".py") for path in tracked.stdout.split() for part in Path(path).parts}
    distributions = metadata.packages_distributions()
    missing = []
    for module, importer in sorted(imported_top_level_modules().items()):
        if module in sys.stdlib_module_names or module in local or module in OPTIONAL_IMPORTS:
            continue
        owners = {re.sub(r"[-_.]+", "-", name).lower() for name in distributions.get(module, [])}
        if not owners & locked:
            missing.append(f"{module} (imported by {importer}; installed from {sorted(owners) or 'nothing'})")
    assert not missing, "add these to requirements-dev.txt and run python lock_requirements.py:\n" + "\n".join(missing)
