"""Build a ModelSerializer's fields once per class instead of once per serializer instance.

DRF's ModelSerializer introspects the model and constructs every field anew each time a serializer is
instantiated (about 0.6 ms for a ticket, twice per API create: the input and the output serializer), and
its own fallback, `copy.deepcopy` of prebuilt fields, re-runs every field's `__init__` (0.4 ms). Ticket
writes and reads are the hot path of the API, so this mixin keeps the fields `get_fields()` built the first
time (the prototypes, never bound to a serializer) and hands each instance copies:

- a plain field is copied shallowly (a new object with a copy of the prototype's attribute dict, which is
  what `copy.copy` does, without its generic `__reduce_ex__` round): binding (`Field.bind`) only sets
  attributes on the copy (`parent`, `field_name`, `source_attrs`, `label`), and the objects it shares with
  the prototype (choices, validators, querysets) are never mutated by DRF (querysets are re-evaluated
  through `.all()`);
- a field that holds other bound fields (a nested serializer, a many-related field) is deep-copied as DRF
  does, so its children point at their own parent.

Only for serializers whose `get_fields()` does not depend on the instance or context: a subclass that
adjusts fields per instance does so after calling `super().get_fields()`, on the copies; adjustments that
hold for every instance go in `adjust_prototypes()`, which runs once.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.relations import ManyRelatedField

_NESTED = (serializers.BaseSerializer, ManyRelatedField)


def copy_field(field: serializers.Field) -> serializers.Field:
    if isinstance(field, _NESTED):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class PrebuiltFieldsMixin:
    """Mix into a ModelSerializer or Serializer (before it) to build its fields once per class; see the module
    docstring."""

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        prototypes = cls.__dict__.get("_prebuilt_fields")
        if prototypes is None:
            # Built from this class's own Meta; a subclass gets its own entry (cls.__dict__, not inherited).
            prototypes = super().get_fields()  # type: ignore[misc]
            self.adjust_prototypes(prototypes)
            cls._prebuilt_fields = prototypes
        return {name: copy_field(field) for name, field in prototypes.items()}

    def adjust_prototypes(self, fields: dict[str, Any]) -> None:
        """Change the freshly built prototypes in place, once per class (for what holds for every instance)."""
