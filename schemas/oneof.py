"""`OneOf`: an ``Annotated`` marker for strings that must be one of a fixed set of codes.

The message models' code fields (grids, units, townships, counties, categories: `schemas.fields`) use it
so that thousands of known codes are checked in Rust rather than by a Python validator per value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

__all__ = ["OneOf"]


@functools.cache
def _sorted_codes(one_of: OneOf) -> list[str]:
    # Each model using a code type asks for its schema; sort the few thousand codes only once.
    return sorted(one_of.codes())


@dataclass(frozen=True, slots=True)
class OneOf:
    """``Annotated`` marker: the string must be one of a fixed set of codes, checked in Rust.

    The set becomes a pydantic-core literal schema (a hash lookup, no Python call per value), which is what
    keeps decoding above 100k events/s; the JSON Schema shows a pattern and a note instead of listing
    thousands of codes.
    """

    codes: Callable[[], Iterable[str]]
    error_type: str
    message: str
    pattern: str
    description: str

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.literal_schema(_sorted_codes(self)),
            custom_error_type=self.error_type,
            custom_error_message=self.message,
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": self.pattern, "description": self.description}
