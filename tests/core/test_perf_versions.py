"""core/perf reaches into framework internals: it runs only on the minor versions it was checked against."""

import tomllib
from pathlib import Path

from core import perf


def test_installed_frameworks_are_the_versions_core_perf_was_checked_against():
    unchecked = perf.unchecked_versions()
    assert not unchecked, (
        "core/perf was checked against other versions: "
        + "; ".join(
            f"{name} {installed} installed, {checked}.x checked"
            for name, (installed, checked) in unchecked.items()
        )
        + ". Re-read the internals listed in core/perf/README.md, then move CHECKED_VERSIONS and the pins."
    )


def test_pyproject_pins_the_checked_minor_versions():
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    pins = {dep.split(">=")[0].split("[")[0].strip(): dep for dep in project["project"]["dependencies"]}
    for name, checked in perf.CHECKED_VERSIONS.items():
        major, minor = checked.split(".")
        pin = pins[name].replace(" ", "")
        assert f">={checked}" in pin and f"<{major}.{int(minor) + 1}" in pin, (
            f"pyproject must pin {name} to {checked}.x, found {pins[name]!r}"
        )


def test_a_different_minor_is_reported(monkeypatch):
    monkeypatch.setitem(perf.CHECKED_VERSIONS, "Django", "4.2")
    assert "Django" in perf.unchecked_versions()
