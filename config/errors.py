"""Config errors that name the stack-file key they are about.

Every problem found in a stack file becomes one `ConfigIssue` with a path in the user's spelling
(`models[2].storageUri`), and all of them are raised together as one `ConfigError`, so a user fixes a
stack file in one round instead of one error per `pulumi preview`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Loc = Sequence[str | int]
_MODEL_ENTRY = re.compile(r"^models\[(\d+)\]")


def format_path(loc: Loc) -> str:
    """`("models", 2, "storageUri")` -> `models[2].storageUri`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem in the stack config: where it is and what to do about it."""

    path: str
    message: str
    # `namespace/name` of the model entry the path is under (`models[i]...`), so a user finds it by name.
    model: str | None = None

    def __str__(self) -> str:
        where = f"{self.path} ({self.model})" if self.model else self.path
        return f"{where}: {self.message}"


def model_label(entry: Any) -> str | None:
    """`namespace/name` of a raw model entry, as far as it has them (None when it has neither)."""
    if not isinstance(entry, dict):
        return None
    name, namespace = entry.get("name"), entry.get("namespace")
    name = name if isinstance(name, str) and name else None
    namespace = namespace if isinstance(namespace, str) and namespace else None
    label = f"{namespace}/{name}" if name and namespace else name or (f"{namespace}/?" if namespace else None)
    # Escaped, so a name with a stray newline (itself an error) still reads on one line, the newline shown.
    return label.encode("unicode_escape").decode("ascii") if label else None


def name_models(issues: Iterable[ConfigIssue], models: Any) -> list[ConfigIssue]:
    """Every issue under `models[i]` names that entry as `namespace/name` (errors and warnings alike)."""
    entries = models if isinstance(models, list) else []
    out = []
    for issue in issues:
        match = _MODEL_ENTRY.match(issue.path)
        index = int(match.group(1)) if match else -1
        label = model_label(entries[index]) if 0 <= index < len(entries) else None
        out.append(dataclasses.replace(issue, model=label) if label and issue.model is None else issue)
    return out


class ConfigError(ValueError):
    """Raised before any resource is registered when the stack config is invalid."""

    def __init__(self, issues: Iterable[ConfigIssue]):
        self.issues: list[ConfigIssue] = sorted(set(issues), key=_issue_order)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        count = len(self.issues)
        super().__init__(
            f"invalid kserve-platform stack config ({count} error{'s' if count != 1 else ''}); "
            f"nothing was registered:\n{lines}"
        )


def _issue_order(issue: ConfigIssue) -> tuple:
    # Keep list indexes in numeric order (models[2] before models[10]) and otherwise stable.
    key: list[tuple[int, str | int]] = []
    token = ""
    i = 0
    path = issue.path
    while i < len(path):
        ch = path[i]
        if ch == "[":
            if token:
                key.append((0, token))
                token = ""
            end = path.index("]", i)
            inner = path[i + 1 : end]
            key.append((1, int(inner)) if inner.isdigit() else (0, inner))
            i = end + 1
            continue
        if ch == ".":
            if token:
                key.append((0, token))
            token = ""
        else:
            token += ch
        i += 1
    if token:
        key.append((0, token))
    return (tuple(key), issue.message)
