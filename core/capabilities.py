"""What the database offers, and what the suite does without what it lacks (SPEC section 1, issue 24).

`make run` may land on the embedded PostgreSQL (pgserver: no contrib extensions), the machine's, or a managed
one. Everything works on all of them, but a few things work less well without an optional extension; rather
than degrade silently, `missing()` names each such loss, /health/ reports it under "missing", and the
`make run` banner prints it (`manage.py capabilities`). The README lists what each database option gives.

OPTIONAL_EXTENSIONS is the one list: extension, the area that uses it, and what that area lacks without it.
Search needs none of them (knowledge.lexicon does typo tolerance and synonyms from indexed words); the CMDB
keeps pg_trgm because its trigram index makes name substring matches fast on a large CMDB.
"""

from __future__ import annotations

from .pg import has_extension

OPTIONAL_EXTENSIONS: list[tuple[str, str, str]] = [
    (
        "pg_trgm",
        "cmdb",
        "CI pickers match names by prefix only, and name substring filters scan every CI: pg_trgm missing",
    ),
]


def missing(using: str = "default") -> dict[str, str]:
    """{area: what it lacks} for each optional extension not installed in the database (cached, see core.pg)."""
    found: dict[str, str] = {}
    for extension, area, loss in OPTIONAL_EXTENSIONS:
        if not has_extension(extension, using):
            found[area] = f"{found[area]}; {loss}" if area in found else loss
    return found
