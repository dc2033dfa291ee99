"""The end-to-end toolchain is built from Go modules pinned by exact version and verified by their go.sum: every
go.mod under e2e/ names exact versions (no `latest`, no branch, no local replace that go.sum cannot see) and has a
go.sum holding each required module, and no build script turns checksum verification off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "e2e"
# A release (v1.2.3, v1.2.3-rc.1, v2.0.0+incompatible) or a pseudo-version (v0.0.0-20240101000000-0123456789ab):
# both name one immutable module zip. Branch names and `latest` are resolved at build time and are not.
EXACT_VERSION = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+incompatible)?$")
GO_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
TOOLCHAIN = re.compile(r"^go\d+\.\d+\.\d+$")
# Settings that let `go` fetch modules without checking them against go.sum or the checksum database.
UNVERIFIED = re.compile(r"GOSUMDB=off|GONOSUMDB|GONOSUMCHECK|GOINSECURE|GOFLAGS=[^\n]*-mod=mod|GOPRIVATE|@latest")


def directives(go_mod: str) -> list[tuple[str, list[str]]]:
    """(verb, fields) for every directive of a go.mod, blocks `verb ( ... )` unfolded, comments dropped."""
    out = []
    block = None
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
            else:
                out.append((block, line.split()))
            continue
        verb, _, rest = line.partition(" ")
        if rest.strip() == "(":
            block = verb
        else:
            out.append((verb, rest.split()))
    return out


def module_problems(module_dir: Path) -> list[str]:
    """Every way the module in module_dir is not pinned or not verified, one line each."""
    where = module_dir.relative_to(module_dir.parents[2]) if len(module_dir.parents) > 2 else module_dir
    problems = []
    parsed = directives((module_dir / "go.mod").read_text())
    requires = {fields[0]: fields[1] for verb, fields in parsed if verb == "require"}
    replaces = {}
    for verb, fields in parsed:
        if verb != "replace":
            continue
        arrow = fields.index("=>")
        target = fields[arrow + 1 :]
        if len(target) != 2:
            problems.append(f"{where}/go.mod: replace {fields[0]} => {' '.join(target)} is not a module@version")
            continue
        if not EXACT_VERSION.match(target[1]):
            problems.append(f"{where}/go.mod: replace {fields[0]} => {target[0]} {target[1]} is not an exact version")
        replaces[fields[0]] = tuple(target)
    for verb, fields in parsed:
        if verb == "go" and not GO_VERSION.match(fields[0]):
            problems.append(f"{where}/go.mod: go {fields[0]} is not a Go version")
        if verb == "toolchain" and not TOOLCHAIN.match(fields[0]):
            problems.append(f"{where}/go.mod: toolchain {fields[0]} is not an exact Go release")
    for module, version in requires.items():
        if not EXACT_VERSION.match(version):
            problems.append(f"{where}/go.mod: require {module} {version} is not an exact version")
        elif version == "v0.0.0" and module not in replaces:
            problems.append(f"{where}/go.mod: require {module} v0.0.0 names no release and no replace pins it")
    go_sum = module_dir / "go.sum"
    if not go_sum.is_file():
        return [*problems, f"{where}: go.mod without go.sum (run `go mod tidy` there and commit go.sum)"]
    sums = set(re.findall(r"^(\S+) (\S+?)(?:/go\.mod)? h1:\S+$", go_sum.read_text(), re.MULTILINE))
    for module, version in requires.items():
        resolved = replaces.get(module, (module, version))
        if EXACT_VERSION.match(resolved[1]) and resolved not in sums:
            problems.append(f"{where}/go.sum: no hash for {resolved[0]} {resolved[1]} (run `go mod tidy` there)")
    return problems


def go_modules() -> list[Path]:
    return sorted(path.parent for path in E2E.rglob("go.mod"))


def test_every_e2e_go_module_is_pinned_and_verified_by_its_go_sum():
    modules = go_modules()
    if not modules:
        pytest.skip("no go.mod under e2e/ yet: the end-to-end toolchain's wrapper modules are not in this checkout")
    problems = [problem for module in modules for problem in module_problems(module)]
    assert problems == []


def test_no_toolchain_script_turns_checksum_verification_off():
    scripts = [*E2E.rglob("*.sh"), *E2E.rglob("*.env")]
    assert scripts, "e2e/ has no build script"
    for script in scripts:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            assert not UNVERIFIED.search(line), f"{script.relative_to(ROOT)}:{number}: {line.strip()}"
            assert not re.search(r"=\s*\"?latest\"?\s*$", line), f"{script.relative_to(ROOT)}:{number}: {line}"


GOOD_MOD = """module kserve-platform.local/e2e/example

go 1.24.0

require (
\tgithub.com/spf13/cobra v1.9.1 // indirect
\tk8s.io/kubectl v0.0.0 // indirect
\tk8s.io/utils v0.0.0-20250604170112-4c0f3b243397
)

replace k8s.io/kubectl => k8s.io/kubectl v0.34.5
"""
GOOD_SUM = """github.com/spf13/cobra v1.9.1 h1:aaaa=
github.com/spf13/cobra v1.9.1/go.mod h1:bbbb=
k8s.io/kubectl v0.34.5/go.mod h1:cccc=
k8s.io/utils v0.0.0-20250604170112-4c0f3b243397/go.mod h1:dddd=
"""


def write_module(root: Path, go_mod: str, go_sum: str | None) -> Path:
    module = root / "e2e" / "toolchain" / "modules" / "example"
    module.mkdir(parents=True)
    (module / "go.mod").write_text(go_mod)
    if go_sum is not None:
        (module / "go.sum").write_text(go_sum)
    return module


def test_a_pinned_module_with_its_go_sum_passes(tmp_path):
    assert module_problems(write_module(tmp_path, GOOD_MOD, GOOD_SUM)) == []


@pytest.mark.parametrize(
    ("go_mod", "go_sum", "expected"),
    [
        (GOOD_MOD.replace("cobra v1.9.1", "cobra latest"), GOOD_SUM, "require github.com/spf13/cobra latest"),
        (GOOD_MOD.replace("cobra v1.9.1", "cobra main"), GOOD_SUM, "require github.com/spf13/cobra main"),
        (GOOD_MOD.replace("kubectl v0.34.5", "kubectl master"), GOOD_SUM, "replace k8s.io/kubectl => k8s.io/kubectl"),
        (GOOD_MOD.replace("=> k8s.io/kubectl v0.34.5", "=> ../kubectl"), GOOD_SUM, "is not a module@version"),
        (GOOD_MOD.replace("replace k8s.io/kubectl => k8s.io/kubectl v0.34.5", ""), GOOD_SUM, "v0.0.0 names no"),
        (GOOD_MOD, None, "go.mod without go.sum"),
        (GOOD_MOD, GOOD_SUM.replace("k8s.io/kubectl v0.34.5/go.mod h1:cccc=\n", ""), "no hash for k8s.io/kubectl"),
        (GOOD_MOD.replace("go 1.24.0", "go 1.24.0\n\ntoolchain default"), GOOD_SUM, "toolchain default"),
    ],
    ids=[
        "latest",
        "branch",
        "replace-branch",
        "local-replace",
        "unreplaced-v0",
        "no-go-sum",
        "missing-hash",
        "toolchain",
    ],
)
def test_an_unpinned_or_unverified_module_is_reported(tmp_path, go_mod, go_sum, expected):
    problems = module_problems(write_module(tmp_path, go_mod, go_sum))
    assert any(expected in problem for problem in problems), problems
