"""The GitHub workflows: actionlint and zizmor (offline) find nothing, actions are pinned, permissions and
secrets are minimal, and the previews, diffs and deployments are wired to the project's stacks, policy pack and
diff command.

actionlint also runs shellcheck on every `run:` script when `shellcheck` is on PATH (`apt-get install shellcheck`);
it is not required, so the test passes on machines without it and checks more on machines with it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.diff import COMMENT_MARKER, NO_CHANGE_MARKER

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
STACKS = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))


DEPLOY_STACKS = {"dev": "dev", "staging": "staging", "prod": "production"}  # stack -> GitHub environment
BLOCKING = {"Medium", "High"}  # zizmor severities that fail the suite


def dev_tool(name: str) -> str:
    """A tool installed by requirements-dev.lock: next to this interpreter first (a venv's python run without
    activating the venv has its bin/ off PATH), then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install --require-hashes -r requirements-dev.lock")
    return found


def lint(*files: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [dev_tool("actionlint"), "-format", "{{json .}}", *map(str, files)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(result.stdout or "[]")
    assert result.returncode in (0, 1), result.stderr  # 1 = findings; anything else = actionlint itself failed
    return findings


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); normalise it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in document:
        document["on"] = document.pop(True)
    return document


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in load(path.name)["jobs"].values():
            out.extend((path.name, step) for step in job.get("steps", []))
    for path in sorted(ACTIONS.glob("*/action.yml")):
        out.extend((str(path.relative_to(ROOT)), step) for step in yaml.safe_load(path.read_text())["runs"]["steps"])
    return out


def zizmor(github_dir: Path) -> list[dict[str, Any]]:
    """zizmor's findings on a .github folder, offline (no GitHub API), inline `zizmor: ignore` comments honoured."""
    result = subprocess.run(
        [dev_tool("zizmor"), "--offline", "--no-progress", "--format", "json", str(github_dir)],
        check=False,
        cwd=github_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Exit codes: 0 = no finding; 10 + highest severity (11 informational .. 14 high) = findings; else zizmor failed.
    assert result.returncode == 0 or 11 <= result.returncode <= 14, result.stderr
    return json.loads(result.stdout)


def blocking(findings: list[dict[str, Any]]) -> list[str]:
    out = []
    for finding in findings:
        if finding["determinations"]["severity"] not in BLOCKING:
            continue
        [where] = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
        path = where["symbolic"]["key"]["Local"]["verbatim_path"]
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        out.append(f"{path}:{line}: {finding['determinations']['severity']} {finding['ident']}: {finding['desc']}")
    return out


def test_actionlint_finds_nothing():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["deploy.yml", "pr.yml", "preview.yml"]
    findings = lint(*files)
    assert findings == [], "\n".join(f"{f['filepath']}:{f['line']}: {f['message']}" for f in findings)


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # The lint is not vacuous: an undefined job output and a typo'd expression are reported.
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ needs.nope.outputs.x }}\n"
    )
    findings = lint(broken)
    assert findings and any("nope" in f["message"] for f in findings)


def test_zizmor_finds_nothing_at_medium_or_above():
    findings = zizmor(ROOT / ".github")
    assert blocking(findings) == []
    # Every low finding left is suppressed inline, and each suppression says why.
    assert [f["ident"] for f in findings] == []
    for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]:
        for line in path.read_text().splitlines():
            if "zizmor: ignore[" in line:
                reason = line.split("zizmor: ignore[", 1)[1].split("]", 1)[1].strip()
                assert len(reason.split()) >= 3, f"{path.name}: a zizmor suppression without its reason: {line}"


def test_zizmor_check_fails_on_a_workflow_that_inherits_secrets(tmp_path):
    # The check is not vacuous: the same .github plus one caller with `secrets: inherit` fails it.
    github = tmp_path / ".github"
    shutil.copytree(ROOT / ".github", github)
    (github / "workflows" / "inherit.yml").write_text(
        "name: inherit\n"
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  call:\n"
        "    uses: octo-org/deploy/.github/workflows/up.yml@0123456789abcdef0123456789abcdef01234567 # v1.0.0\n"
        "    secrets: inherit\n"
    )
    found = blocking(zizmor(github))
    assert any("inherit.yml:" in line and "secrets-inherit" in line for line in found), found


def test_every_action_is_pinned_to_a_commit_with_its_version():
    texts = {path: path.read_text() for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]}
    for where, step in all_steps():
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert PINNED.match(uses), f"{where}: {uses} is not pinned to a full commit SHA"
    for path, text in texts.items():
        for line in text.splitlines():
            if re.search(r"uses: [A-Za-z0-9][\w.-]*/", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: no version comment: {line}"


def test_permissions_are_minimal():
    for path in WORKFLOWS.glob("*.yml"):
        workflow = load(path.name)
        assert workflow["permissions"] == {"contents": "read"}, path.name
    writers = {
        (path.name, job_name)
        for path in WORKFLOWS.glob("*.yml")
        for job_name, job in load(path.name)["jobs"].items()
        if "write" in (job.get("permissions") or {}).values()
    }
    assert writers == {("pr.yml", "comment"), ("preview.yml", "preview")}
    assert load("pr.yml")["jobs"]["comment"]["permissions"] == {"pull-requests": "write"}


def test_pr_workflow_needs_no_credentials_and_diffs_every_stack():
    text = (WORKFLOWS / "pr.yml").read_text()
    assert "secrets." not in text
    workflow = load("pr.yml")
    assert list(workflow["on"]) == ["pull_request"]
    script = next(
        s["run"] for s in workflow["jobs"]["manifest-diff"]["steps"] if "python -m cli diff" in s.get("run", "")
    )
    assert "for file in Pulumi.*.yaml" in script and "git worktree add" in script and "--format markdown" in script
    # The commenting job finds its comments by the marker the diff module writes.
    pattern = re.search(r"/\^(<!-- kserve-platform-diff:.*?)\$/", text).group(1).replace("\\", "")
    for stack in STACKS:
        marker = COMMENT_MARKER.format(stack=stack)
        assert re.fullmatch(pattern.replace("[A-Za-z0-9._-]+", r"[A-Za-z0-9._-]+"), marker), (pattern, marker)
    assert f"=== '{NO_CHANGE_MARKER}'" in text
    comment = workflow["jobs"]["comment"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert "run" not in json.dumps(comment["steps"][0])  # the writer job runs no code from the pull request


PROJECT_ACTION = "./.github/actions/pulumi-project"
SECRETS = {"KUBECONFIG", "PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"}


def project_action() -> dict[str, Any]:
    return yaml.safe_load((ACTIONS / "pulumi-project" / "action.yml").read_text())


def test_the_project_action_runs_pulumi_with_the_policy_pack_from_the_locks():
    action = project_action()
    steps = action["runs"]["steps"]
    [pulumi] = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    with_ = pulumi["with"]
    assert with_["command"] == "${{ inputs.command }}" and with_["refresh"] is True
    assert with_["policyPacks"] == "policy"
    assert with_["policyPackConfigs"] == "policy/config/${{ inputs.stack }}.json"
    assert with_["comment-on-pr"] == "${{ inputs.command == 'preview' }}"
    assert pulumi["if"] == "steps.check.outputs.ready == 'true'"
    # The kubeconfig path reaches only the pulumi step (no $GITHUB_ENV write that every later step inherits).
    assert pulumi["env"]["KUBECONFIG"] == "${{ steps.kubeconfig.outputs.path }}"
    text = (ACTIONS / "pulumi-project" / "action.yml").read_text()
    assert "GITHUB_ENV" not in text and "GITHUB_PATH" not in text
    install = next(s["run"] for s in steps if "venv/bin/pip" in s.get("run", ""))
    assert "--require-hashes -r requirements.lock" in install
    assert "--require-hashes -r policy/requirements.lock" in install
    assert not any("cache" in (s.get("with") or {}) for s in steps)  # credentialed jobs restore no cache
    check = steps[0]
    assert check["id"] == "check" and set(check["env"]) >= SECRETS - {"KUBECONFIG"} | {"KUBECONFIG_DATA"}


def test_previews_skip_the_engine_checkpoints_and_up_keeps_them():
    """The engine serializes the whole snapshot after every step of a preview too (quadratic in the resources) and
    then discards it: a preview skips those checkpoints; `up` keeps them (an interrupted update's state)."""
    [pulumi] = [s for s in project_action()["runs"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["env"]["PULUMI_SKIP_CHECKPOINTS"] == "${{ inputs.command == 'preview' }}"


def project_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses") == PROJECT_ACTION]


def secret_names(value: Any) -> set[str]:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", json.dumps(value)))


def test_each_job_reads_only_the_secrets_it_uses_from_its_own_environment():
    for path in WORKFLOWS.glob("*.yml"):
        for name, job in load(path.name)["jobs"].items():
            assert "secrets" not in job, f"{path.name}:{name} passes secrets to a reusable workflow"
            dumped = json.dumps(job)
            assert "secrets[" not in dumped and "toJSON(secrets)" not in dumped, f"{path.name}:{name}"
            used = secret_names(job)
            if not used:
                continue
            # A job that reads secrets runs in a GitHub environment and hands them only to the project action.
            assert "environment" in job, f"{path.name}:{name} reads {used} outside an environment"
            [step] = project_steps(job)
            assert secret_names(step) == used, (path.name, name)
            assert used <= SECRETS, (path.name, name, used)
            assert "KUBECONFIG" in used, (path.name, name)  # and its kubeconfig is the environment's own


def test_fork_pull_requests_get_no_secrets_and_run_only_the_credential_free_diff():
    # pr.yml reads no secret at all; preview.yml, the only other pull-request workflow, skips forks.
    assert secret_names(load("pr.yml")) == set()
    pull_request_workflows = {p.name for p in WORKFLOWS.glob("*.yml") if "pull_request" in load(p.name)["on"]}
    assert pull_request_workflows == {"pr.yml", "preview.yml"}
    assert not any("pull_request_target" in load(p.name)["on"] for p in WORKFLOWS.glob("*.yml"))
    for name, job in load("preview.yml")["jobs"].items():
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository", name


def test_preview_runs_every_stack_in_its_preview_environment():
    preview = load("preview.yml")["jobs"]["preview"]
    stacks = [entry["stack"] for entry in preview["strategy"]["matrix"]["include"]]
    assert sorted(stacks) == STACKS
    clusters = {entry["stack"]: entry["cluster"] for entry in preview["strategy"]["matrix"]["include"]}
    assert clusters == {stack: stack != "local" for stack in STACKS}
    assert preview["environment"] == {"name": "preview-${{ matrix.stack }}", "deployment": False}
    [step] = project_steps(preview)
    assert step["with"]["command"] == "preview" and step["with"]["stack"] == "${{ matrix.stack }}"
    assert step["with"]["kubeconfig"] == "${{ matrix.cluster && secrets.KUBECONFIG || '' }}"


def test_deploy_promotes_dev_staging_prod_through_environments():
    workflow = load("deploy.yml")
    jobs = workflow["jobs"]
    assert workflow["on"]["push"] == {"branches": ["main"]}
    order = [
        (name, jobs[name]["needs"], jobs[name]["environment"], project_steps(jobs[name])[0]["with"]["stack"])
        for name in DEPLOY_STACKS
    ]
    assert order == [
        ("dev", "test", "dev", "dev"),
        ("staging", "dev", "staging", "staging"),
        ("prod", "staging", "production", "prod"),
    ]
    for stack in DEPLOY_STACKS:
        job = jobs[stack]
        assert job["if"] == "github.ref == 'refs/heads/main'"
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        [step] = project_steps(job)
        assert step["with"]["command"] == "up" and step["with"]["kubeconfig"] == "${{ secrets.KUBECONFIG }}"
        assert "uses" not in job  # not a reusable workflow: those see environment secrets only via inherit


def test_policy_configs_referenced_by_the_workflows_exist():
    for stack in STACKS:
        assert (ROOT / "policy" / "config" / f"{stack}.json").is_file()
