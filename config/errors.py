"""Config errors that name the stack-file key they are about.

Every problem found in a stack file becomes one `ConfigIssue` with a path in the user's spelling
(`models[2].storageUri`), and all of them are raised together as one `ConfigError`, so a user fixes a
stack file in one round instead of one error per `pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Loc = Sequence[str | int]


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

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


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
