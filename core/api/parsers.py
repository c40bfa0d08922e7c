"""The JSON parser every API endpoint uses: bounded in size and nesting before anything is parsed.

Python's json module recurses once per nesting level, so a body of a thousand `[` raised RecursionError deep in
the parser (a 500, on every JSON endpoint including the unauthenticated token endpoint), and nothing bounded a
body's size. Here a body over API_JSON_MAX_BYTES is a 413 and one nested deeper than API_JSON_MAX_DEPTH a 400,
both as the API's usual JSON errors; a string with a NUL character, which PostgreSQL cannot store, is a 400
too. Files travel as multipart uploads, which have their own limits.
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# An escaped NUL (`\u0000`) that is not itself the tail of an escaped backslash (`\\u0000` is text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    if raw.count(b"[") + raw.count(b"{") <= settings.API_JSON_MAX_DEPTH:
        return raw.count(b"[") + raw.count(b"{")  # an upper bound that is already small enough
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        deepest = max(deepest, depth)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(f"The JSON body is larger than {limit} bytes; send files as attachments.")
        if nesting_depth(raw) > settings.API_JSON_MAX_DEPTH:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {settings.API_JSON_MAX_DEPTH} levels."
            )
        if _ESCAPED_NUL.search(raw):
            # PostgreSQL stores no NUL in text or jsonb: refused here, once, instead of a 500 at the insert.
            raise exceptions.ParseError(
                "JSON parse error - strings may not contain NUL characters (\\u0000)."
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
