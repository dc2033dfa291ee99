"""The docs' recipes work: every stack-file snippet marked ```yaml title="Pulumi.<stack>.yaml"``` is merged into a
copy of that stack (its fixture in tests/fixtures/stacks/) and rendered offline; the render must succeed and declare what the snippet adds.
Model-file snippets on the same page (```yaml title="models/....yaml"```) are written to that path of the project
the render reads model files from. And the docs link only to files that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.schema import model_file_modeline
from config.stack import PROJECT
from offline.program import run_program
from offline.stackfile import read_stack_settings
from tests.conftest import PROJECT_DIR

DOCS = PROJECT_DIR / "docs"
FIXTURE_STACKS = PROJECT_DIR / "tests" / "fixtures" / "stacks"
# ```yaml title="Pulumi.dev.yaml" replaces="models-dev/my-model"``` ... ```; the fence may be indented (in a list).
SNIPPET = re.compile(r'^( *)```yaml title="(Pulumi\.[a-z0-9-]+\.yaml)"((?: [a-z]+="[^"]*")*)\n(.*?)^\1```', re.M | re.S)
MODEL_FILE_SNIPPET = re.compile(r'^( *)```yaml title="(models/[^"]+\.ya?ml)"\n(.*?)^\1```', re.M | re.S)
ENTRY_LISTS = ("models", "runtimes", "storageCredentials")


def _unindent(indent: str, body: str) -> str:
    return "\n".join(line[len(indent) :] for line in body.splitlines()) + "\n"


def model_file_snippets(page: Path) -> dict[str, str]:
    """The model files a page shows, by their path in the project."""
    return {path: _unindent(indent, body) for indent, path, body in MODEL_FILE_SNIPPET.findall(page.read_text())}


def snippets() -> list[Any]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        model_files = model_file_snippets(page)
        for match in SNIPPET.finditer(page.read_text(encoding="utf-8")):
            indent, stack_file, attributes, body = match.groups()
            text = _unindent(indent, body)
            options = dict(re.findall(r'([a-z]+)="([^"]*)"', attributes))
            where = f"{page.relative_to(PROJECT_DIR)}:{stack_file}"
            found.append(
                pytest.param(stack_file, text, options, model_files, id=f"{page.stem}-{stack_file}-{len(found)}")
            )
            assert stack_file, where
    return found


# ```typescript title="tests/end_to_end/consumers/typescript/index.ts"``` ...: a program the end-to-end tests run
# (tests/end_to_end/test_pulumi_package.py), shown verbatim.
CONSUMER_SNIPPET = re.compile(r'^( *)```[a-z]+ title="(tests/end_to_end/consumers/[^"]+)"\n(.*?)^\1```', re.M | re.S)


def consumer_snippets() -> list[Any]:
    return [
        pytest.param(page, match.group(2), match.group(3), id=f"{page.stem}-{match.group(2)}")
        for page in sorted(DOCS.rglob("*.md"))
        for match in CONSUMER_SNIPPET.finditer(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(("page", "path", "text"), consumer_snippets())
def test_consumer_snippet_is_the_program_the_end_to_end_tests_run(page: Path, path: str, text: str) -> None:
    assert text == (PROJECT_DIR / path).read_text(encoding="utf-8"), f"{page.name} shows another {path}"


def test_recipes_have_tested_snippets() -> None:
    pages = {param.id.split("-Pulumi")[0] for param in snippets()}
    pages |= {param.values[0].stem for param in consumer_snippets()}
    recipes = {page.stem for page in (DOCS / "recipes").glob("*.md")}
    assert recipes <= pages, f"recipes without a tested stack-file snippet: {sorted(recipes - pages)}"


def merge(base: dict[str, Any], snippet: dict[str, Any], replaces: str | None) -> dict[str, Any]:
    """Each key the snippet sets replaces the base's; entries of models/runtimes/storageCredentials are added, or
    replace the entry with the same namespace/name (and `replaces="ns/name"` drops that entry first)."""
    config = dict(base["config"])
    if replaces:
        namespace, name = replaces.split("/")
        key = f"{PROJECT}:models"
        config[key] = [m for m in config.get(key, []) if (m.get("namespace"), m.get("name")) != (namespace, name)]
    for key, value in snippet.items():
        listed = key.removeprefix(f"{PROJECT}:") in ENTRY_LISTS
        if listed and isinstance(value, list) and isinstance(config.get(key), list):
            new = {(entry.get("namespace"), entry.get("name")) for entry in value}
            kept = [entry for entry in config[key] if (entry.get("namespace"), entry.get("name")) not in new]
            config[key] = [*kept, *value]
        else:
            config[key] = value
    return {**base, "config": config}


@pytest.mark.parametrize(("stack_file", "text", "options", "model_files"), snippets())
def test_recipe_snippet_renders(
    stack_file: str, text: str, options: dict[str, str], model_files: dict[str, str], tmp_path: Path
) -> None:
    document = yaml.safe_load(text)
    snippet = document.get("config", document)
    assert all(key.startswith(f"{PROJECT}:") for key in snippet), "a snippet sets kserve-platform: keys"
    # The fixture copies of the stacks: the recipes' test must not depend on how a user has edited theirs.
    fixture = FIXTURE_STACKS / stack_file
    base = yaml.safe_load((fixture if fixture.is_file() else PROJECT_DIR / stack_file).read_text(encoding="utf-8"))
    merged = merge(base, snippet, options.get("replaces"))
    candidate = tmp_path / stack_file
    candidate.write_text(yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
    stack = stack_file.split(".")[1]
    project = tmp_path / "project"
    for path, content in model_files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(content, encoding="utf-8")
    run = run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", candidate), stack, project_dir=project)
    services = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in run.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    }
    from_files = [model for content in model_files.values() for model in yaml.safe_load(content)]
    if snippet.get(f"{PROJECT}:modelFiles"):
        assert from_files, "a snippet that names model files comes with them on its page"
    for model in [*snippet.get(f"{PROJECT}:models", []), *from_files]:
        if model.get("deploy", True):
            assert (model["namespace"], model["name"]) in services, f"{model['name']} was not rendered"


def test_model_file_snippets_start_with_their_modeline() -> None:
    shown = {path: text for page in DOCS.rglob("*.md") for path, text in model_file_snippets(page).items()}
    assert shown, "the model-files recipe shows a model file"
    for path, text in shown.items():
        assert text.splitlines()[0] == model_file_modeline(path), path
        assert (PROJECT_DIR / path).parent.joinpath(model_file_modeline(path).split("=", 1)[1]).resolve() == (
            PROJECT_DIR / "schema" / "model-file.schema.json"
        )


LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def test_docs_links_resolve() -> None:
    for page in [PROJECT_DIR / "README.md", *DOCS.rglob("*.md")]:
        for target, _ in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(PROJECT_DIR)} links to missing {target}"


def ci_block(lines: list[str], marker: str) -> tuple[int, str]:
    """Where the commands after a `# README ...` comment of .ci/run start, and those commands (up to the next
    comment or the end)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(marker)) + 1
    while lines[start].startswith("#"):
        start += 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return start, "\n".join(lines[start:end])


def test_readme_quick_start_runs_what_ci_runs() -> None:
    """The README's test command and its end-to-end command are the ones `.ci/run` runs, character for character and
    in that order; its render command needs only requirements.txt."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    lines = (PROJECT_DIR / ".ci/run").read_text(encoding="utf-8").splitlines()
    unit_start, unit = ci_block(lines, "# README test command:")
    e2e_start, e2e = ci_block(lines, "# README end-to-end command:")
    assert unit_start < e2e_start
    assert f"```sh\n{unit}\n```" in readme
    assert f"```sh\n{e2e}\n```" in readme
    assert unit.endswith("python3 -m pytest -q") and e2e.endswith("python3 -m pytest -q -m e2e tests/end_to_end")
    assert "\npython3 -m venv .venv && . .venv/bin/activate\n" in readme
    assert (
        "\npython3 -m pip install -r requirements.txt && python3 -m cli render --stack dev --out rendered/dev\n"
        in readme
    )
