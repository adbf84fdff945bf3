"""PATCH: merge the given fields onto the current input, validate the result whole."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def merge(model: type[M], current: dict[str, Any], patch: BaseModel) -> tuple[M, set[str]]:
    """The validated whole object and the names of the fields the patch set."""
    changes = patch.model_dump(exclude_unset=True)
    try:
        merged = model.model_validate({**current, **changes})
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None
    return merged, set(changes)
