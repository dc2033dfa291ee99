"""Shared pieces of the typed stack config: the strict base model and pydantic error translation."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from config.errors import ConfigIssue, Loc, format_path


class StrictModel(BaseModel):
    """Base for every config model.

    Keys are spelled the way KServe and the stack file spell them (camelCase), unknown keys are errors
    (a typo must never be silently ignored), and parsed config is immutable.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        frozen=True,
        strict=False,
    )

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return sorted(field.alias or name for name, field in cls.model_fields.items())


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation can hold (Optional/Union/Annotated peeled off)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """Walk the config schema along an error location to the model that owns its last key."""
    candidates: list[Any] = [root]
    for part in loc:
        next_candidates: list[Any] = []
        for candidate in candidates:
            for concrete in _unwrap(candidate):
                origin = get_origin(concrete)
                if isinstance(part, int) and origin in (list, tuple):
                    next_candidates.extend(_unwrap(get_args(concrete)[0]))
                elif isinstance(part, str) and origin is dict:
                    next_candidates.extend(_unwrap(get_args(concrete)[1]))
                elif isinstance(part, str) and isinstance(concrete, type) and issubclass(concrete, BaseModel):
                    for name, field in concrete.model_fields.items():
                        if (field.alias or name) == part:
                            next_candidates.extend(_unwrap(field.annotation))
        candidates = next_candidates
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def issues_from_validation_error(error: ValidationError, root: type[BaseModel], prefix: Loc = ()) -> list[ConfigIssue]:
    """Turn pydantic's errors into `ConfigIssue`s whose messages say what is allowed."""
    issues: list[ConfigIssue] = []
    for item in error.errors(include_url=False):
        loc = [part for part in item["loc"] if not _is_union_tag(part)]
        kind = item["type"]
        message = item["msg"]
        if kind == "extra_forbidden":
            owner = _model_at(root, loc[:-1])
            message = unknown_key_message(str(loc[-1]), owner.allowed_keys() if owner else [])
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "value_error":
            message = str(item.get("ctx", {}).get("error", message))
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"must be a mapping of keys to values, got {_describe(item.get('input'))}"
        elif kind == "list_type":
            message = f"must be a list, got {_describe(item.get('input'))}"
        elif kind == "literal_error":
            message = f"got {item.get('input')!r}; allowed: {item.get('ctx', {}).get('expected')}"
        else:
            message = f"{message} (got {_describe(item.get('input'))})"
        issues.append(ConfigIssue(format_path([*prefix, *loc]), message))
    return issues


def unknown_key_message(key: str, allowed: list[str], what: str = "key") -> str:
    """`unknown key 'storageURI'; did you mean 'storageUri'? Allowed keys here: ...`"""
    message = f"unknown {what} {key!r}"
    # A key that differs only in case (storageURI) is that key, before any merely similar one (storage).
    same_but_case = [known for known in allowed if known.lower() == key.lower()]
    close = same_but_case or difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    if allowed:
        message += f" Allowed {what}s here: {', '.join(allowed)}"
    return message


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts the member type name (e.g. "str", "list[EnvVar]") into locations of union fields.
    return isinstance(part, str) and (part in {"str", "int", "float", "bool"} or "[" in part)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"
