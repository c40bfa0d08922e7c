"""JSON values keep their JSON types: `"public": 0` is not false and `"body": 0` is not the text "0".

DRF coerces on input (a BooleanField takes 0, 1, "yes"...; a CharField takes numbers), which suits HTML
forms, but this API reads JSON only (form bodies only for uploads and the token endpoint), and a client that
sends the wrong type has a bug it should hear about: a 400 naming the field, not a silent conversion.
Form-encoded bodies, whose values are all text, keep DRF's reading, limited to "true"/"false" for booleans.

A list of references (`"configuration_items": [1, 2]`) takes a JSON list: DRF's ManyRelatedField iterated
whatever it got, so an object `{}` read as an empty list and cleared the record's CIs.

Fenced framework code: installed once from CoreConfig.ready() by wrapping `to_internal_value` of DRF's
CharField, BooleanField and ManyRelatedField (and so of their subclasses: EmailField, URLField, SlugField,
ChoiceField is not one), checked against djangorestframework 3.18.3.
"""

from __future__ import annotations

from django.http import QueryDict
from rest_framework import serializers


def _form_encoded(field) -> bool:
    root = getattr(field, "root", None)
    return isinstance(getattr(root, "initial_data", None), QueryDict)


def install() -> None:
    if getattr(serializers.CharField, "_strict_json", False):
        return
    char_to_internal = serializers.CharField.to_internal_value
    bool_to_internal = serializers.BooleanField.to_internal_value

    def char_to_internal_value(self, data):
        if not isinstance(data, str) and not _form_encoded(self):
            self.fail("invalid")
        return char_to_internal(self, data)

    def bool_to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if _form_encoded(self) and str(data).strip().lower() in ("true", "false"):
            return bool_to_internal(self, str(data).strip().lower())
        self.fail("invalid", input=data)

    many_to_internal = serializers.ManyRelatedField.to_internal_value

    def many_to_internal_value(self, data):
        if not isinstance(data, list) and not _form_encoded(self):
            self.fail("not_a_list", input_type=type(data).__name__)
        return many_to_internal(self, data)

    serializers.CharField.to_internal_value = char_to_internal_value
    serializers.BooleanField.to_internal_value = bool_to_internal_value
    serializers.ManyRelatedField.to_internal_value = many_to_internal_value
    serializers.CharField._strict_json = True
