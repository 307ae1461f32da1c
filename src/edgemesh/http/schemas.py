"""Field types shared by request bodies: bounded, strict, free of NUL bytes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Label = Annotated[str, AfterValidator(_no_nul)]
"""A short piece of text that names something; never holds a NUL byte."""

RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A database row id as clients send it back: a positive 64-bit integer."""

Count = Annotated[int, Field(strict=True, ge=0, le=10**12)]
"""A non-negative integer measure (milliseconds, megabytes, …)."""


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(frozen=True)

    error: str
    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The input is well-formed but impossible",
        401: "No credential, or one nobody issued",
        402: "The wallet cannot cover the hold",
        403: "The caller's role or node state does not allow this",
        404: "No such thing, or not the caller's",
        409: "The request clashes with the current state",
        422: "The request body or parameters are malformed",
    }.items()
}
"""Error responses to document on every route."""
