"""Checking input against a typed model (pydantic), refusing it as `InvalidInput` naming the field.

Request bodies of the API and rows of an import are described once, as pydantic models; the same
model validates the input and, in the API, writes the OpenAPI document. A refusal names the first
field at fault the way every other refusal does: `lines[1].sku`, `customer.email`, `body`.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
)

from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    """A request body or import record: unknown fields are refused, text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def Text(max_length: int, *, pattern: str | None = None):
    """Required text: a JSON string (never a number), stripped, 1 to `max_length` characters."""
    return Annotated[
        str,
        StringConstraints(
            strict=True,
            strip_whitespace=True,
            min_length=1,
            max_length=max_length,
            pattern=pattern,
        ),
    ]


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# An email address as we store it: one @, a dot in the domain, no spaces, lower case.
Email = Annotated[Text(254, pattern=EMAIL), AfterValidator(str.lower)]


def _blank_is_missing(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def OptionalText(max_length: int, *, pattern: str | None = None):
    """Optional text: like `Text`, with a blank value read as absent (None)."""
    return Annotated[Text(max_length, pattern=pattern) | None, BeforeValidator(_blank_is_missing)]


def code_of(codes: type[enum.StrEnum], *, lower: bool = False):
    """One of the domain's codes (`codes`), given in either case; the schema lists them."""

    def normalise(value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value.lower() if lower else value.upper()
        return value

    return Annotated[codes, BeforeValidator(normalise)]


def field_path(location: tuple[int | str, ...]) -> str:
    """('lines', 1, 'sku') → 'lines[1].sku'; the empty location is the whole body."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _message(error: dict[str, Any], field: str) -> str:
    kind = error["type"]
    if kind == "missing":
        return _("%(field)s is required", field=field)
    if kind == "extra_forbidden":
        return _("unknown field %(field)s", field=repr(field))
    if kind == "json_invalid":
        # The parser also refuses absurd nesting here ("recursion limit exceeded").
        detail = error["msg"].removeprefix("Invalid JSON: ")
        return _("the body is not valid JSON (%(detail)s)", detail=detail)
    if kind in {"model_type", "model_attributes_type", "dict_type"} and field == "body":
        return _("the body must be a JSON object")
    text = error["msg"].removeprefix("Value error, ")  # our validators' own words
    return _("%(field)s: %(text)s%(text2)s", field=field, text=text[0].lower(), text2=text[1:])


def refusal(error: ValidationError) -> InvalidInput:
    """The first problem of a pydantic `ValidationError` as our `InvalidInput`."""
    first = error.errors(include_url=False)[0]
    field = field_path(tuple(first["loc"]))
    return InvalidInput(_message(first, field), field=field)


def validated(model: type[M], data: Any) -> M:
    """`data` (a dict, or raw JSON bytes / text) checked against `model`, or `InvalidInput`."""
    try:
        if isinstance(data, bytes | str):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as error:
        raise refusal(error) from None
