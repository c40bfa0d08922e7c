"""The import rules of the layout (README, "One shape for every ticket app"), checked on the source.

- No models module imports a services module: models are what services write, never the other way round
  (approval handlers and SLA listeners register from AppConfig.ready() instead).
- core imports nothing from the apps built on it: they plug in through registries (core.extensions,
  core.ticket_services, core.approvals.register_decision_handler, core.events).

A plain AST walk over every module, including imports inside functions, so a cycle cannot hide there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The apps built on core. accounts sits under core (core uses its users, groups and roles).
ABOVE_CORE = {
    "cmdb",
    "sla",
    "incidents",
    "requests_app",
    "problems",
    "changes",
    "knowledge",
    "integrations",
    "reports",
    "portal",
    "contracts",
    "automation",
}
PROJECT_APPS = {"accounts", "core", *ABOVE_CORE}


def _modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> list[tuple[int, str]]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return _imports_in(path.read_text(), package)


def _imports_in(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in the source, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from . import services` names the module in the alias.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _is_services(name: str) -> bool:
    parts = name.split(".")
    return parts[0] in PROJECT_APPS and "services" in parts[1:]


def test_the_walk_sees_every_app():
    for app in PROJECT_APPS:
        assert _modules(app), f"no modules found for {app}"


@pytest.mark.parametrize("app", sorted(PROJECT_APPS))
def test_models_import_no_services(app):
    models = [p for p in _modules(app) if p.name == "models.py" or "models" in p.parent.parts[-1:]]
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in models
        for line, name in _imports(path)
        if _is_services(name)
    ]
    assert not offences, "a model imports a service:\n" + "\n".join(offences)


def test_core_imports_no_app_built_on_it():
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules("core")
        for line, name in _imports(path)
        if name.split(".")[0] in ABOVE_CORE
    ]
    assert not offences, "core imports an app built on it (use a registry):\n" + "\n".join(offences)


def test_the_rules_catch_an_offence():
    """The checker itself: imports inside a function, relative or absolute, are found."""
    source = "def clean(self):\n    from .services import validate\n    from sla import selectors\n"
    names = [name for _, name in _imports_in(source, "changes")]
    assert any(_is_services(name) for name in names)
    assert "sla" in {name.split(".")[0] for name in names}
    assert not _is_services("core.service_desk")


TICKET_APPS = ("incidents", "requests_app", "problems", "changes")
TICKET_APP_FILES = (
    "models.py",
    "choices.py",
    "workflow.py",
    "services.py",
    "selectors.py",
    "filtersets.py",
    "forms.py",
    "views.py",
    "urls.py",
    "api",
    "admin.py",
    "demo.py",
)


@pytest.mark.parametrize("app", TICKET_APPS)
def test_every_ticket_app_has_the_same_files(app):
    """Knowing one ticket app means knowing them all: the same modules, in the same places."""
    missing = [name for name in TICKET_APP_FILES if not (ROOT / app / name).exists()]
    assert not missing, f"{app} lacks {', '.join(missing)}"


@pytest.mark.parametrize("app", sorted(PROJECT_APPS))
def test_imports_inside_functions_say_why(app):
    """An import inside a function is either in AppConfig.ready() (where modules that load models may first
    be imported) or names the import cycle it breaks in a comment on its line or the line above."""
    offences = []
    for path in _modules(app):
        if path.name == "apps.py":
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    here = lines[inner.lineno - 1] + (lines[inner.lineno - 2] if inner.lineno > 1 else "")
                    if "cycle" not in here:
                        offences.append(
                            f"{path.relative_to(ROOT)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}"
                        )
    assert not sorted(set(offences)), "an import inside a function with no word on its cycle:\n" + "\n".join(
        sorted(set(offences))
    )
