"""A batch's answers: its answer schema (a JSON Schema) and answer pointer (a JSON Pointer
to the part of a result that is compared with gold and aggregated)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException
from jsonschema import exceptions as schema_errors
from jsonschema import validators

from .errors import DomainError, ensure
from .task import check_json
from .values import check_text


def canonical(value: Any) -> str:
    """One text per JSON value, so equal answers compare (and group) equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Any:
    schema = json.loads(schema_text)
    return validators.validator_for(schema)(schema)


def check_schema(schema: Any) -> None:
    """The answer schema must itself be a valid JSON Schema (of its declared draft)."""
    check_json(schema, "answerSchema")
    ensure(isinstance(schema, (dict, bool)), "INVALID_INPUT",
           "answerSchema must be a JSON Schema object", ["answerSchema"])
    try:
        validators.validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as error:
        raise DomainError("INVALID_INPUT", f"answerSchema is not a valid JSON Schema: "
                          f"{error.message} (at {error.json_path})", ["answerSchema"]) from None


def check_answer(schema: Any, result: Any) -> None:
    """INVALID_ANSWER naming the JSON path of the (most relevant) failure."""
    try:
        error = schema_errors.best_match(_validator(canonical(schema)).iter_errors(result))
    except Exception as failure:  # a $ref we never fetch (referencing's Unresolvable)
        raise DomainError("INVALID_ANSWER", f"the answer schema cannot be applied: {failure}",
                          ["result"]) from None
    if error is None:
        return
    path = [str(part) for part in error.absolute_path]
    raise DomainError("INVALID_ANSWER", f"{error.json_path}: {error.message}", ["result", *path])


def parse_pointer(pointer: Any) -> str:
    if pointer is None:
        return ""
    ensure(isinstance(pointer, str) and len(pointer) <= 1000, "INVALID_INPUT",
           "answerPointer must be a JSON Pointer", ["answerPointer"])
    check_text(pointer, "answerPointer", 1000, required=False, strip=False)
    try:
        JsonPointer(pointer)
    except JsonPointerException as error:
        raise DomainError("INVALID_INPUT", f"answerPointer is not a JSON Pointer: {error}",
                          ["answerPointer"]) from None
    return pointer


_MISSING = object()


def answer_at(pointer: str, result: Any) -> Any:
    """The part of a result that is compared and aggregated (None when absent)."""
    if not pointer:
        return result
    found = JsonPointer(pointer).resolve(result, _MISSING)
    return None if found is _MISSING else found
