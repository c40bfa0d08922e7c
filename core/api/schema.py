"""The OpenAPI generator every API view uses: drf-spectacular's, plus the error answers the API really gives.

drf-spectacular documents only success bodies, so a generated client learnt of no 4xx at all although every
operation can answer some. This adds, per operation, the error codes it can produce with the API's JSON error
shapes (core.api.exceptions): 400 for writes (field name → messages), 401/403 for authenticated operations,
404 where a path names a record or a list page is past the end, 400 for a list's bad filter, 409 for deletes, 412 for ticket writes that take If-Match, 413 for JSON
bodies over API_JSON_MAX_BYTES, 429 where a throttle applies.

Fenced framework code: `_get_response_bodies` is drf-spectacular's private hook for the response map (there is
no public one that sees the computed success code), and `_is_list_view` its test for "answers a list";
checked against drf-spectacular 0.30.0. The transition
move's request names the kind's states as an enum, built from the model's workflow.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import alpha_operation_sorter
from rest_framework import serializers

from core.api.serializers import TransitionSerializer

DETAIL_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Each refused field's name with its messages (`non_field_errors` for the whole body, "
    "`detail` when the body could not be read).",
    "additionalProperties": {},
}
SERVICENOW_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "detail": {"type": "string"}},
        },
        "status": {"type": "string"},
    },
}
ERRORS = {
    "400": ("The request was refused; the body names each field and why.", VALIDATION_ERROR),
    "401": ("No or invalid credentials.", DETAIL_ERROR),
    "403": ("Signed in, but this role may not do this.", DETAIL_ERROR),
    "404": ("No such record, or not one this user may see.", DETAIL_ERROR),
    "409": ("The record is still referenced, or the change would lock every admin out.", DETAIL_ERROR),
    "412": ("If-Match named an older version: the record changed meanwhile.", DETAIL_ERROR),
    "413": ("The JSON body is larger than the server accepts.", DETAIL_ERROR),
    "414": ("The URL (its query string) is longer than the server accepts.", DETAIL_ERROR),
    "429": ("Too many attempts; retry later.", DETAIL_ERROR),
}


def _transition_serializer(model) -> type[serializers.Serializer]:
    """A transition body whose `to` lists the states of `model`'s workflow (one class per kind)."""
    cached = _TRANSITION_SERIALIZERS.get(model)
    if cached is None:
        states = sorted(model.workflow.states)
        cached = type(
            f"{model.__name__}TransitionSerializer",
            (TransitionSerializer,),
            {
                "to": serializers.ChoiceField(
                    choices=[(s, model.workflow.label(s)) for s in states], help_text="The state to move to"
                )
            },
        )
        _TRANSITION_SERIALIZERS[model] = cached
    return cached


_TRANSITION_SERIALIZERS: dict = {}


class AutoSchema(SpectacularAutoSchema):
    def get_request_serializer(self):
        model = getattr(self.view, "model", None)
        if getattr(self.view, "action", None) == "transition" and model is not None:
            return _transition_serializer(model)
        return super().get_request_serializer()

    def error_codes(self) -> list[str]:
        view, method = self.view, self.method
        codes = []
        writes = method in ("POST", "PUT", "PATCH")
        if writes:
            codes += ["400", "413"]
        listing = getattr(view, "action", None) == "list" or self._is_list_view()  # private: see module doc
        if method == "GET" and (listing or self.path.startswith("/api/now/")):
            codes += ["400", "404"]  # a filter value or page size refused; a page past the end
        elif method == "GET" and self.get_override_parameters():
            codes.append("400")  # a query parameter the operation declares, refused
        if any(getattr(p, "__name__", type(p).__name__) != "AllowAny" for p in view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path or "401" in codes:
            # a record that is not there or not this user's; resources a role may not see (requesters and
            # the workspace's data, non-admins and admin-only data) answer 404 as if they did not exist
            codes.append("404")
        if method == "DELETE":
            codes.append("409")
        if hasattr(view, "model") and (
            method in ("PUT", "PATCH") or getattr(view, "action", "") == "transition"
        ):
            codes.append("412")
        if getattr(view, "throttle_classes", None) or getattr(view, "throttle_scope", None):
            codes.append("429")
        codes.append("414")  # any URL can be too long (gunicorn refuses request lines over 4094 bytes)
        codes += getattr(view, "extra_error_codes", [])  # a view that answers more than its shape says
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if code not in responses:
                description, schema = ERRORS[code]
                # gunicorn answers an over-long request line itself, before Django, with a short HTML page.
                media_type = "text/html" if code == "414" else "application/json"
                if self.path.startswith("/api/now/") and code != "414":
                    schema = SERVICENOW_ERROR  # the ServiceNow subset answers errors in ServiceNow's shape
                responses[code] = {"content": {media_type: {"schema": schema}}, "description": description}
        return responses


def allow_empty_query_values(result, generator, request, public):
    """Postprocessing hook: every query parameter may be sent empty, meaning "not filtered" (the list pages
    submit their filter forms with empty inputs, and the API reads them the same way)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return result


def time_as_clock_text(result, generator, request, public):
    """Postprocessing hook: DRF's TimeField reads and writes "09:00" or "09:00:00", local wall-clock time; the
    OpenAPI `format: time` means RFC 3339's time with a UTC offset, which those values are not."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "time":
                del node["format"]
                node["pattern"] = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def native_api_first(endpoint):
    """SORT_OPERATIONS key: drf-spectacular's alphabetical order, but the ServiceNow subset under /api/now/ after
    the suite's own /api/v1/ (alphabetically it came first, and the docs opened on a compatibility layer with
    the native tags pushed below what Swagger UI renders before the page scrolls)."""
    return (endpoint[0].startswith("/api/now/"), alpha_operation_sorter(endpoint))
