"""Model files (`kserve-platform:modelFiles`): `models` entries kept in files of the repository, not in the stack file.

Pulumi hands a program its whole stack config in one environment string (`PULUMI_CONFIG`), which Linux caps at
128 KiB (`config.config_size`): a stack file holds a few hundred models at most. A model file is a YAML list of
entries with exactly the schema of `models[]` (one `ModelConfig`); the files a stack names are read in sorted path
order and their entries follow the inline `models`, so every rule (unique names, runtimes, credentials, monitoring)
sees one list. Each problem is reported where the entry is written: `modelFiles models/prod/fraud.yaml[3].image
(team-a/fraud): ...` instead of the entry's place in the combined list.

A model file holds no secret values: Pulumi decrypts `secure:` values only in the stack file, so one in a model file
is refused. Models name their secrets instead: `storageCredentials: <entry>` (whose keys the stack file holds as
Pulumi secrets), `env[].valueFrom.secretKeyRef` (a Kubernetes Secret), `imagePullSecrets`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, TypeAdapter, ValidationError

from config.errors import ConfigIssue, format_path

# The project root (where Pulumi.yaml is): `config/` sits in it in every checkout and in every copy the engine runs.
PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_FILES_KEY = "modelFiles"
MODEL_FILE_DOCS = "docs/recipes/model-files.md"
_GLOB = re.compile(r"[*?\[]")
# `models[7]` as a path or inside a message, but not `monitoring.models[7]` (monitoring entries are not models).
_MODEL_ENTRY = re.compile(r"(?<![\w.\]])models\[(\d+)\]")
# libyaml's loader where PyYAML was built with it (hundreds of entries parse ~10x faster), else the Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_pattern(value: str) -> str:
    path = PurePosixPath(value)
    if not value.strip():
        raise ValueError("empty path: give a file or glob pattern relative to the project root, e.g. models/*.yaml")
    if value != value.strip():
        raise ValueError(f"{value!r} starts or ends with whitespace (a newline?): remove it")
    if path.is_absolute() or value.startswith("~"):
        raise ValueError(
            f"'{value}' is absolute: model files live in the repository, named relative to the project root (where "
            "Pulumi.yaml is), e.g. models/prod/*.yaml"
        )
    if ".." in path.parts:
        raise ValueError(f"'{value}' leaves the project root ('..'): keep model files inside the repository")
    return value


# A file or glob pattern (`*`, `?`, `[...]`, `**` for any depth), relative to the project root.
ModelFilePattern = Annotated[str, AfterValidator(_check_pattern)]
_PATTERN = TypeAdapter(ModelFilePattern)


@dataclass
class ModelEntries:
    """The raw model entries of a stack (inline first, then each model file's) and where each is written."""

    entries: list[Any] = field(default_factory=list)
    # Per entry: `models[i]` for an inline entry, `modelFiles <file>[j]` for an entry of a model file.
    locations: list[str] = field(default_factory=list)
    # Problems with the files themselves: a pattern matching nothing, a file that is not a YAML list, a secret.
    issues: list[ConfigIssue] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def from_files(self) -> bool:
        return bool(self.files)

    def relocate_text(self, text: str) -> str:
        """Every `models[i]` in `text` (a key path or a message) as where entry i is written."""
        if not self.from_files:
            return text

        def where(match: re.Match[str]) -> str:
            index = int(match.group(1))
            return self.locations[index] if index < len(self.locations) else match.group(0)

        return _MODEL_ENTRY.sub(where, text)

    def relocate(self, issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
        return [replace(i, path=self.relocate_text(i.path), message=self.relocate_text(i.message)) for i in issues]


def model_file_label(relative: str, index: int | None = None) -> str:
    return f"{MODEL_FILES_KEY} {relative}" + (f"[{index}]" if index is not None else "")


def _matches(pattern: str, project_dir: Path) -> list[Path]:
    if _GLOB.search(pattern):
        return [path for path in project_dir.glob(pattern) if path.is_file()]
    path = project_dir / pattern
    return [path] if path.is_file() else []


def resolve_model_files(patterns: Any, project_dir: Path) -> tuple[list[str], list[ConfigIssue]]:
    """The files `modelFiles` names, relative to `project_dir` in sorted (POSIX path) order, each once; and an issue
    for each pattern that matches no file. Malformed patterns are left to the config model to report."""
    if not isinstance(patterns, list):
        return [], []
    found: set[str] = set()
    issues = []
    for index, pattern in enumerate(patterns):
        try:
            _PATTERN.validate_python(pattern)
        except ValidationError:
            continue
        matched = _matches(pattern, project_dir)
        if not matched:
            what = f"pattern '{pattern}' matches no file" if _GLOB.search(pattern) else f"no file '{pattern}'"
            issues.append(
                ConfigIssue(
                    format_path((MODEL_FILES_KEY, index)),
                    (
                        f"{what} under the project root {project_dir}: create the file, or fix or remove the entry "
                        f"(paths are relative to the directory of Pulumi.yaml; see {MODEL_FILE_DOCS})"
                    ),
                )
            )
        found.update(path.relative_to(project_dir).as_posix() for path in matched)
    return sorted(found), issues


def _secure_values(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            yield loc
            return
        for key, item in value.items():
            yield from _secure_values(item, (*loc, str(key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _secure_values(item, (*loc, position))


def _without_secure(value: Any) -> Any:
    # The refused value becomes text, so the entry's other keys are still checked and the secret reported once.
    if isinstance(value, dict):
        return "[secure value]" if set(value) == {"secure"} else {k: _without_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secure(item) for item in value]
    return value


SECRET_FIX = (
    "a model file is plain text in the repository and Pulumi decrypts secure: values only in the stack file. "
    "Reference the secret instead: put it in a Kubernetes Secret and use env valueFrom.secretKeyRef, or, for "
    "bucket credentials, name a storageCredentials entry of the stack file (its keys are set with "
    "`pulumi config set --secret`)"
)


def read_model_file(project_dir: Path, relative: str) -> tuple[list[Any], list[ConfigIssue]]:
    """One model file's raw entries, or the problem that keeps them from being read."""
    label = model_file_label(relative)
    try:
        document = yaml.load((project_dir / relative).read_text(encoding="utf-8"), Loader=_SafeLoader)
    except OSError as error:
        return [], [ConfigIssue(label, f"cannot read the file: {error.strerror or error}")]
    except UnicodeDecodeError as error:
        return [], [ConfigIssue(label, f"is not UTF-8 text: {error.reason}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return [], [ConfigIssue(label, f"is not valid YAML{at}: {getattr(error, 'problem', None) or error}")]
    if document is None:
        return [], [ConfigIssue(label, "is empty: a model file holds a YAML list of model entries (write [] for none)")]
    if not isinstance(document, list):
        kind = "a mapping" if isinstance(document, dict) else type(document).__name__
        fix = "; remove the top-level key and keep its list" if isinstance(document, dict) else ""
        return [], [
            ConfigIssue(label, f"must be a YAML list of model entries (each as under models:), got {kind}{fix}")
        ]
    return document, []


def model_entries(values: Mapping[str, Any], project_dir: Path = PROJECT_DIR) -> ModelEntries:
    """The inline `models` and the entries of every file `modelFiles` names, in that order.

    When `models` is not a list (an error the config model reports) only the files' entries are listed."""
    inline = values.get("models")
    inline_entries = inline if isinstance(inline, list) else []
    result = ModelEntries(
        entries=list(inline_entries), locations=[format_path(("models", i)) for i in range(len(inline_entries))]
    )
    files, result.issues = resolve_model_files(values.get(MODEL_FILES_KEY), project_dir)
    result.files = files
    for relative in files:
        entries, issues = read_model_file(project_dir, relative)
        result.issues.extend(issues)
        for index, entry in enumerate(entries):
            # Written as `models[i]`, so the entry's namespace/name is added and the path relocated like any other.
            result.issues.extend(
                ConfigIssue(
                    format_path(("models", len(result.entries), *loc)), f"a secure: value is refused: {SECRET_FIX}"
                )
                for loc in _secure_values(entry)
            )
            result.entries.append(_without_secure(entry))
            result.locations.append(model_file_label(relative, index))
    return result


def with_model_entries(values: Mapping[str, Any], entries: ModelEntries) -> dict[str, Any]:
    """Raw stack values whose `models` is the combined list (unchanged when no model file is named)."""
    inline = values.get("models")
    if not entries.from_files or not (inline is None or isinstance(inline, list)):
        return dict(values)
    return {**values, "models": list(entries.entries)}
