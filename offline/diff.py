"""Compare two offline renders (`python -m cli render --out DIR`) object by object, for reviewers of a pull request.

A render directory holds `0-crd/*.yaml` and `1-manifest/*.yaml` (one Kubernetes object per file),
`helm-releases.yaml` (Helm charts under `releases:`, remote manifests such as the Gateway API CRDs under
`manifests:`) and `resources.yaml` (every Pulumi resource with the object it applies and its resource options).
Objects are matched by (apiVersion, kind, namespace, name), not by file name, so the diff stays right whatever the
files are called; Helm charts and remote manifests by their Pulumi resource name; resource options by resource.
A changed object is reported as the fields that differ, as dotted paths with the old and new values.

Changes that `pulumi up` cannot apply in place are called out first, loudly: a field of `offline.immutable`'s
table, or a Pulumi resource that now applies another object (its kind, namespace or name changed).

Secret payloads never appear: the render already writes `[secret]` for them, and this module masks the values
under a Secret's `data` / `stringData` again so that a render made some other way cannot leak them here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.immutable import immutable_field
from offline.manifests import CRD_DIR, HELM_RELEASES_FILE, MANIFEST_DIR, RESOURCES_FILE
from offline.recorder import SECRET

COMMENT_MARKER = "<!-- kserve-platform-diff:{stack} -->"
# Second line of a comment whose diff is empty: CI then updates an earlier comment but does not post a new one.
NO_CHANGE_MARKER = "<!-- kserve-platform-diff-no-change -->"
# What a value longer than this is cut to in a report line (the full object is in the render).
MAX_VALUE_CHARS = 80
# Changed fields listed per object before the rest are summarised as a count.
MAX_FIELDS_PER_OBJECT = 40
# GitHub rejects comments over 65,536 characters; stay well below with room for the footer.
MAX_MARKDOWN_CHARS = 60_000
FOOTER = (
    "<sub>Rendered without cluster credentials (`python -m cli render` under Pulumi mocks); secret values are never "
    "shown. "
    "Reproduce locally: see docs/pull-requests.md.</sub>"
)
SECRET_KINDS = frozenset({"Secret"})
SECRET_FIELDS = ("data", "stringData")
# Lists whose items carry a unique `name` are compared item by item by that name (containers, env, ports,
# volumes...), so inserting one env var shows as one added entry, not as every later entry changing.
_NAME_KEYS = ("name",)


class _Absent:
    """The value of a field that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True, order=True)
class ObjectKey:
    api_version: str
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectKey:
        metadata = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion")), str(obj.get("kind")), metadata.get("namespace") or "", str(metadata.get("name"))
        )

    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"


@dataclass
class ObjectChange:
    key: ObjectKey
    fields: list[FieldChange]


@dataclass
class ReleaseChange:
    key: str
    label: str
    fields: list[FieldChange]


@dataclass
class Replacement:
    """A change that forces the object to be deleted and created again."""

    label: str
    path: str
    old: Any
    new: Any
    why: str


# Resource options as the engine defaults them: a resource listed without an option has this value.
DEFAULT_OPTIONS: dict[str, Any] = {
    "protect": False,
    "retainOnDelete": False,
    "deleteBeforeReplace": False,
    "ignoreChanges": [],
    "customTimeouts": {},
    "aliases": [],
    "transforms": 0,
}


@dataclass
class Render:
    """One render directory, read back: objects by key, Helm releases and remote manifests by Pulumi resource
    name, and Pulumi resources (object identity + options) by URN without stack and project."""

    objects: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    # None: a render made before `resources.yaml` existed (options and identities cannot be compared).
    resources: dict[str, dict[str, Any]] | None = None
    exists: bool = True


@dataclass
class RenderDiff:
    added: list[ObjectKey] = field(default_factory=list)
    removed: list[ObjectKey] = field(default_factory=list)
    changed: list[ObjectChange] = field(default_factory=list)
    releases_added: list[str] = field(default_factory=list)
    releases_removed: list[str] = field(default_factory=list)
    releases_changed: list[ReleaseChange] = field(default_factory=list)
    manifests_added: list[str] = field(default_factory=list)
    manifests_removed: list[str] = field(default_factory=list)
    manifests_changed: list[ReleaseChange] = field(default_factory=list)
    options_changed: list[ReleaseChange] = field(default_factory=list)
    # False when one side has no `resources.yaml`: option changes and identity replacements are then unknown.
    options_compared: bool = True
    replacements: list[Replacement] = field(default_factory=list)
    unchanged: int = 0
    base_missing: bool = False
    # Kept for the report: the head objects that were added, and both sides' releases (for labels).
    head: Render = field(default_factory=Render)
    base: Render = field(default_factory=Render)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.releases_added
            or self.releases_removed
            or self.releases_changed
            or self.manifests_added
            or self.manifests_removed
            or self.manifests_changed
            or self.options_changed
        )


class RenderDirError(ValueError):
    """A directory that is not a render (or holds a file that is not one Kubernetes object)."""


def _release_key(release: dict[str, Any]) -> str:
    # The Pulumi resource name is the chart's identity in the stack (what `pulumi up` updates or replaces).
    return str(release.get("resource") or release.get("name"))


def _mask_secret(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("kind") not in SECRET_KINDS:
        return obj
    masked = dict(obj)
    for key in SECRET_FIELDS:
        if isinstance(masked.get(key), dict):
            masked[key] = {name: SECRET for name in masked[key]}
    return masked


def load_render(directory: Path) -> Render:
    """Read a render directory; a directory that does not exist reads as an empty render (`exists=False`)."""
    if not directory.exists():
        return Render(exists=False)
    if not directory.is_dir():
        raise RenderDirError(f"{directory} is not a directory")
    render = Render()
    files = sorted((directory / CRD_DIR).glob("*.yaml")) + sorted((directory / MANIFEST_DIR).glob("*.yaml"))
    releases_file = directory / HELM_RELEASES_FILE
    if not files and not releases_file.is_file():
        raise RenderDirError(
            f"{directory} holds no render: expected {CRD_DIR}/, {MANIFEST_DIR}/ and {HELM_RELEASES_FILE} "
            "(write one with `python -m cli render --stack NAME --out DIR`)"
        )
    for path in files:
        obj = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
            raise RenderDirError(f"{path} is not a Kubernetes object (no apiVersion/kind)")
        key = ObjectKey.of(obj)
        if key in render.objects:
            raise RenderDirError(f"{path}: {key.label()} appears twice in {directory}")
        render.objects[key] = _mask_secret(obj)
    if releases_file.is_file():
        document = yaml.safe_load(releases_file.read_text(encoding="utf-8")) or {}
        for release in document.get("releases") or []:
            render.releases[_release_key(release)] = release
        for manifest in document.get("manifests") or []:
            render.manifests[_release_key(manifest)] = manifest
    resources_file = directory / RESOURCES_FILE
    if resources_file.is_file():
        document = yaml.safe_load(resources_file.read_text(encoding="utf-8")) or {}
        render.resources = dict(document.get("resources") or {})
    return render


def _named_items(items: list[Any]) -> dict[str, Any] | None:
    """`{name: item}` when every item is a mapping with a distinct `name`, else None (compare by index)."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _NAME_KEYS:
        names = [item.get(key) for item in items]
        if all(isinstance(name, str) and name for name in names) and len(set(names)) == len(names):
            return {name: item for name, item in zip(names, items, strict=True)}
    return None


def _join(path: str, key: str) -> str:
    # Keys that would be ambiguous in a dotted path (annotation keys such as `serving.kserve.io/deploymentMode`)
    # are bracketed, so a reader can tell the path segments apart.
    if key and all(ch.isalnum() or ch in "_-" for ch in key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Every leaf that differs between `old` and `new`, as dotted paths (`spec.predictor.minReplicas`).

    Mappings are compared key by key; lists of named mappings by name (`containers[kserve-container]`);
    other lists by index. A list whose items cannot be matched and whose length changed is one change.
    """
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            changes.extend(field_changes(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key))))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _named_items(old), _named_items(new)
        if old_named is not None and new_named is not None:
            changes = []
            for name in list(old_named) + [n for n in new_named if n not in old_named]:
                item_path = f"{path}[{name}]"
                changes.extend(field_changes(old_named.get(name, ABSENT), new_named.get(name, ABSENT), item_path))
            return changes
        if len(old) == len(new):
            changes = []
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                changes.extend(field_changes(before, after, f"{path}[{index}]"))
            return changes
    return [FieldChange(path or "(whole object)", old, new)]


def diff_renders(base: Render, head: Render) -> RenderDiff:
    result = RenderDiff(base_missing=not base.exists, head=head, base=base)
    result.added = sorted(key for key in head.objects if key not in base.objects)
    result.removed = sorted(key for key in base.objects if key not in head.objects)
    for key in sorted(set(base.objects) & set(head.objects)):
        changes = field_changes(base.objects[key], head.objects[key])
        if changes:
            result.changed.append(ObjectChange(key, changes))
        else:
            result.unchanged += 1
    result.releases_added = sorted(key for key in head.releases if key not in base.releases)
    result.releases_removed = sorted(key for key in base.releases if key not in head.releases)
    for key in sorted(set(base.releases) & set(head.releases)):
        changes = field_changes(base.releases[key], head.releases[key])
        if changes:
            result.releases_changed.append(ReleaseChange(key, release_label(head.releases[key]), changes))
    result.manifests_added = sorted(key for key in head.manifests if key not in base.manifests)
    result.manifests_removed = sorted(key for key in base.manifests if key not in head.manifests)
    for key in sorted(set(base.manifests) & set(head.manifests)):
        changes = field_changes(base.manifests[key], head.manifests[key])
        if changes:
            result.manifests_changed.append(ReleaseChange(key, manifest_label(head.manifests[key]), changes))
    result.replacements = _field_replacements(result, base, head)
    if base.resources is None or head.resources is None:
        # A base rendered before resources.yaml existed: nothing to compare (every option would look new).
        result.options_compared = not base.exists or (base.resources is not None and head.resources is not None)
        return result
    for base_key, key, renamed in _paired_resources(base.resources, head.resources):
        before, after = base.resources[base_key], head.resources[key]
        label = resource_label(key, after)
        changes = field_changes(_options(before), _options(after))
        if renamed:
            # The alias that pairs them is the point of the rename, not an option change to review.
            changes = [
                change for change in changes if change.path != "aliases" and not change.path.startswith("aliases[")
            ]
        if changes:
            result.options_changed.append(ReleaseChange(key, label, changes))
        old_object, new_object = before.get("object"), after.get("object")
        if old_object and new_object and old_object != new_object:
            why = (
                "renamed with an alias: Pulumi replaces the object (creates the new one, then deletes the old one)"
                if renamed
                else "the same Pulumi resource now applies another object (apiVersion group, kind, namespace or "
                "name changed): Pulumi deletes the old object and creates the new one"
            )
            path = f"(object identity, alias of {base_key.rpartition('::')[2]})" if renamed else "(object identity)"
            result.replacements.append(
                Replacement(label, path, _object_label(old_object), _object_label(new_object), why)
            )
    return result


def _paired_resources(base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(base key, head key, paired through an alias) for every resource the engine treats as the same one: equal
    keys, or a head resource whose alias names a base resource (a rename, `renamedFrom`)."""
    pairs = [(key, key, False) for key in sorted(set(base) & set(head))]
    for key in sorted(set(head) - set(base)):
        chain, _, name = key.rpartition("::")
        for alias in (head[key].get("options") or {}).get("aliases") or []:
            if alias.get("urn"):
                candidate = alias["urn"].split("::", 2)[-1]
            else:
                alias_chain = chain
                if alias.get("type"):
                    parents, dollar, _ = chain.rpartition("$")
                    alias_chain = f"{parents}{dollar}{alias['type']}"
                candidate = f"{alias_chain}::{alias.get('name', name)}"
            if candidate in base and candidate not in head:
                pairs.append((candidate, key, True))
                break
    return pairs


def _options(entry: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULT_OPTIONS, **(entry.get("options") or {})}


def _object_label(obj: dict[str, Any]) -> str:
    where = f"{obj.get('namespace')}/{obj.get('name')}" if obj.get("namespace") else str(obj.get("name"))
    return f"{obj.get('kind')} {where} ({obj.get('apiVersion')})"


def resource_label(key: str, entry: dict[str, Any]) -> str:
    """`Namespace models-dev (v1) [pulumi: models-dev]`, or `kubernetes:helm.sh/v4:Chart kserve-crd` for resources
    that apply no single object."""
    name = entry.get("name") or key.rpartition("::")[2]
    if entry.get("object"):
        return f"{_object_label(entry['object'])} [pulumi: {name}]"
    return f"{entry.get('type') or key.partition('::')[0].rpartition('$')[2]} {name}"


def _field_replacements(result: RenderDiff, base: Render, head: Render) -> list[Replacement]:
    out = []
    for change in result.changed:
        old, new = base.objects[change.key], head.objects[change.key]
        for item in change.fields:
            row = immutable_field(change.key.kind, item.path, old, new)
            if row is not None:
                out.append(Replacement(change.key.label(), item.path, item.old, item.new, row.why))
    return out


def diff_directories(base_dir: Path, head_dir: Path) -> RenderDiff:
    head = load_render(head_dir)
    if not head.exists:
        raise RenderDirError(f"{head_dir} does not exist: render the head revision first")
    return diff_renders(load_render(base_dir), head)


def manifest_label(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('resource')}: {manifest.get('file')}"


def release_label(release: dict[str, Any]) -> str:
    chart = release.get("chart") or "?"
    version = release.get("version") or "unpinned"
    namespace = release.get("namespace")
    where = f" in {namespace}" if namespace else ""
    return f"{release.get('name') or release.get('resource')}: {chart} {version}{where}"


def format_value(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """One line for a value: scalars as YAML would show them, structures as compact JSON, cut to `limit`."""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str):
        text = json.dumps(value) if (not value or value != value.strip() or "\n" in value) else value
    else:
        text = json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _change_line(change: FieldChange) -> str:
    if change.kind == "added":
        return f"{change.path}: + {format_value(change.new)}"
    if change.kind == "removed":
        return f"{change.path}: - {format_value(change.old)}"
    return f"{change.path}: {format_value(change.old)} -> {format_value(change.new)}"


def _limited(changes: list[FieldChange]) -> tuple[list[FieldChange], int]:
    return changes[:MAX_FIELDS_PER_OBJECT], max(0, len(changes) - MAX_FIELDS_PER_OBJECT)


def summary_line(result: RenderDiff) -> str:
    parts = [
        f"{len(result.added)} added",
        f"{len(result.changed)} changed",
        f"{len(result.removed)} removed",
        f"{result.unchanged} unchanged",
    ]
    charts = len(result.releases_added) + len(result.releases_changed) + len(result.releases_removed)
    text = "objects: " + ", ".join(parts)
    if result.replacements:
        text = f"{len(result.replacements)} REPLACEMENT{'S' if len(result.replacements) != 1 else ''}; " + text
    if charts or result.head.releases or result.base.releases:
        text += (
            f"; Helm charts: {len(result.releases_added)} added, {len(result.releases_changed)} changed, "
            f"{len(result.releases_removed)} removed"
        )
    if result.head.manifests or result.base.manifests:
        text += (
            f"; remote manifests: {len(result.manifests_added)} added, {len(result.manifests_changed)} changed, "
            f"{len(result.manifests_removed)} removed"
        )
    if result.options_changed:
        text += f"; resource options changed on {len(result.options_changed)}"
    return text


def _changed_lines(label: str, fields: Any) -> list[str]:
    """`~ label` and its changed fields, at most the shown limit, for the text report."""
    shown, more = _limited(fields)
    lines = [f"~ {label}", *(f"    {_change_line(item)}" for item in shown)]
    if more:
        lines.append(f"    ... and {more} more changed fields")
    return lines


def to_text(result: RenderDiff, stack: str | None = None) -> str:
    lines = [f"stack {stack}: {summary_line(result)}" if stack else summary_line(result)]
    for item in result.replacements:
        lines.append(
            f"!!! REPLACEMENT {item.label}: {item.path}: {format_value(item.old)} -> {format_value(item.new)} "
            f"({item.why})"
        )
    if result.base_missing:
        lines.append("base: no render (new stack, or the base revision does not render); everything is new")
    if not result.options_compared:
        lines.append(f"base: no {RESOURCES_FILE} (rendered by an older revision); resource options not compared")
    for key in result.added:
        lines.append(f"+ {key.label()}")
    for key in result.removed:
        lines.append(f"- {key.label()}")
    for change in result.changed:
        lines.extend(_changed_lines(change.key.label(), change.fields))
    for key in result.releases_added:
        lines.append(f"+ Helm chart {release_label(result.head.releases[key])}")
    for key in result.releases_removed:
        lines.append(f"- Helm chart {release_label(result.base.releases[key])}")
    for release in result.releases_changed:
        lines.extend(_changed_lines(f"Helm chart {release.label}", release.fields))
    for key in result.manifests_added:
        lines.append(f"+ remote manifest {manifest_label(result.head.manifests[key])}")
    for key in result.manifests_removed:
        lines.append(f"- remote manifest {manifest_label(result.base.manifests[key])}")
    for manifest in result.manifests_changed:
        lines.extend(_changed_lines(f"remote manifest {manifest.label}", manifest.fields))
    for options in result.options_changed:
        lines.extend(_changed_lines(f"resource options of {options.label}", options.fields))
    if result.empty:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def _md_code(text: str) -> str:
    # Inline code that survives backticks in the value.
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _md_table(changes: list[FieldChange]) -> list[str]:
    shown, more = _limited(changes)
    rows = ["| field | before | after |", "| --- | --- | --- |"]
    for change in shown:
        before = "*(absent)*" if change.old is ABSENT else _md_code(format_value(change.old).replace("|", "\\|"))
        after = "*(absent)*" if change.new is ABSENT else _md_code(format_value(change.new).replace("|", "\\|"))
        rows.append(f"| {_md_code(change.path)} | {before} | {after} |")
    if more:
        rows.append(f"| … and {more} more fields | | |")
    return rows


PIPE = "\\|"  # a literal `|` inside a Markdown table cell


def _md_cell(value: Any) -> str:
    return "*(absent)*" if value is ABSENT else _md_code(format_value(value).replace("|", PIPE))


def _md_replacements(replacements: list[Replacement]) -> list[str]:
    """The loud block at the top of the comment: GitHub renders `[!CAUTION]` as a red alert."""
    count = len(replacements)
    rows = [
        "> [!CAUTION]",
        f"> **{count} change{'s' if count != 1 else ''} cannot be applied in place: the object is deleted and created "
        "again (Pulumi replaces it, or the update is refused until it is).** For a model that means downtime; "
        "check `protect` and whether a new name (`renamedFrom`) is the safer path.",
        ">",
        "> | object | field | before | after | why |",
        "> | --- | --- | --- | --- | --- |",
    ]
    for item in replacements:
        label, why = (text.replace("|", PIPE) for text in (item.label, item.why))
        rows.append(f"> | {label} | {_md_code(item.path)} | {_md_cell(item.old)} | {_md_cell(item.new)} | {why} |")
    return rows


def to_markdown(result: RenderDiff, stack: str, base_label: str = "base", head_label: str = "head") -> str:
    """A PR comment: a marker (so CI updates this stack's comment in place), a summary, then the changes."""
    out = [COMMENT_MARKER.format(stack=stack)]
    if result.empty:
        out.append(NO_CHANGE_MARKER)
    out += [f"### Manifest diff for stack `{stack}`", ""]
    if result.replacements:
        out += [*_md_replacements(result.replacements), ""]
    out.append(f"Offline render of {_md_code(base_label)} -> {_md_code(head_label)}: {summary_line(result)}.")
    if not result.options_compared:
        out += ["", f"> The base render has no `{RESOURCES_FILE}` (an older revision): resource options not compared."]
    if result.base_missing:
        out += [
            "",
            "> The base revision has no render for this stack (a new stack, or the base does not render it):",
            "> every object is listed as added.",
        ]
    if result.empty:
        out += ["", "No change to the Kubernetes objects or Helm charts this stack declares."]
    if result.changed:
        out += ["", "#### Changed"]
        for change in result.changed:
            out += ["", f"**{change.key.label()}**", "", *_md_table(change.fields)]
    if result.added:
        out += ["", "#### Added", ""]
        out += [f"- {change}" for change in (key.label() for key in result.added)]
        out += ["", "<details><summary>Added objects as rendered</summary>", "", "```yaml"]
        out.append(
            "---\n".join(yaml.safe_dump(result.head.objects[key], sort_keys=False) for key in result.added).rstrip()
        )
        out += ["```", "", "</details>"]
    if result.removed:
        out += ["", "#### Removed", ""]
        out += [f"- {key.label()}" for key in result.removed]
    if result.releases_added or result.releases_removed or result.releases_changed:
        out += ["", "#### Helm charts"]
        for key in result.releases_added:
            out += ["", f"- added: {_md_code(release_label(result.head.releases[key]))}"]
        for key in result.releases_removed:
            out += ["", f"- removed: {_md_code(release_label(result.base.releases[key]))}"]
        for release in result.releases_changed:
            out += ["", f"**{release.label}**", "", *_md_table(release.fields)]
    if result.manifests_added or result.manifests_removed or result.manifests_changed:
        out += ["", "#### Remote manifests"]
        for key in result.manifests_added:
            out += ["", f"- added: {_md_code(manifest_label(result.head.manifests[key]))}"]
        for key in result.manifests_removed:
            out += ["", f"- removed: {_md_code(manifest_label(result.base.manifests[key]))}"]
        for manifest in result.manifests_changed:
            out += ["", f"**{manifest.label}**", "", *_md_table(manifest.fields)]
    if result.options_changed:
        out += ["", "#### Resource options", ""]
        out.append("What the engine does with each resource (`protect`, `retainOnDelete`, ...), not in any manifest:")
        for options in result.options_changed:
            out += ["", f"**{options.label}**", "", *_md_table(options.fields)]
    out += [
        "",
        FOOTER,
    ]
    text = "\n".join(out) + "\n"
    if len(text) > MAX_MARKDOWN_CHARS:
        # Keep the marker, the summary and as much detail as fits; the full diff is in the job log.
        cut = text[: MAX_MARKDOWN_CHARS - 400]
        if cut.count("```") % 2:
            cut += "\n```"
        if cut.count("<details>") > cut.count("</details>"):
            cut += "\n\n</details>"
        text = cut + "\n\n*The diff is too long for one comment; the full text is in the workflow's job log.*\n"
    return text
