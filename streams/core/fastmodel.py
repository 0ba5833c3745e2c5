"""Building Incident and Transition messages on the hot path without validating them a second time.

The escalation step derives every field of its outputs from messages pydantic has already validated at the
edge, from enums and from the taxonomy. Validating again (or even ``model_construct``, which walks every
field in Python) costs more than the rest of a step, so `build` fills a model's ``__dict__`` directly, the
way pydantic's own ``model_construct`` ends. The unit tests re-validate every output, so a wrong value fails
there, not on a consumer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["build", "evolve"]

M = TypeVar("M", bound=BaseModel)

_object_setattr = object.__setattr__


@functools.cache
def _defaults(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    defaults = {name: field.default for name, field in cls.model_fields.items() if not field.is_required()}
    return defaults, frozenset(cls.model_fields)


def build(cls: type[M], values: dict[str, Any]) -> M:
    """A ``cls`` instance holding ``values`` plus the field defaults, unvalidated.

    Every required field must be in ``values``; nothing else may be (checked cheaply by size).
    """
    defaults, names = _defaults(cls)
    data = {**defaults, **values}
    if len(data) != len(names):
        raise TypeError(f"{cls.__name__}: fields {sorted(set(data) ^ names)} missing or unknown")
    obj = cls.__new__(cls)
    _object_setattr(obj, "__dict__", data)
    _object_setattr(obj, "__pydantic_fields_set__", set(names))
    _object_setattr(obj, "__pydantic_extra__", None)
    _object_setattr(obj, "__pydantic_private__", None)
    return obj


def evolve(model: M, updates: Mapping[str, object]) -> M:
    """A copy of ``model`` with ``updates`` applied, unvalidated (like ``model_copy(update=...)``)."""
    obj = type(model).__new__(type(model))
    _object_setattr(obj, "__dict__", {**model.__dict__, **updates})
    _object_setattr(obj, "__pydantic_fields_set__", model.__pydantic_fields_set__)
    _object_setattr(obj, "__pydantic_extra__", None)
    _object_setattr(obj, "__pydantic_private__", None)
    return obj
