"""The fenced performance layer: every piece of code that reaches into Django's, DRF's or django-filter's
internals for speed lives in this package, and nowhere else (core/perf/README.md says what each saves).

`CHECKED_VERSIONS` are the minor versions these pieces were read against and tested on; pyproject pins
the same minors, and tests/core/test_perf_versions.py fails on any other, so an upgrade means re-reading
the internals listed in the README before moving the pin.
"""

from __future__ import annotations

from importlib.metadata import version

CHECKED_VERSIONS = {
    "Django": "5.2",
    "djangorestframework": "3.18",
    "django-filter": "26.2",
}


def minor(full: str) -> str:
    return ".".join(full.split(".")[:2])


def unchecked_versions() -> dict[str, tuple[str, str]]:
    """Installed distributions whose minor version differs from the checked one: name → (installed,
    checked)."""
    found = {}
    for name, checked in CHECKED_VERSIONS.items():
        installed = version(name)
        if minor(installed) != checked:
            found[name] = (installed, checked)
    return found
