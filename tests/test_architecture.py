"""The dependency rule of docs/ARCHITECTURE.md, checked on the source with ``ast``, so an
import inside a function counts as much as one at the top of a file:

* a blueprint package imports no other blueprint package;
* ``survey_app/services/`` imports no blueprint package and not the CLI;
* ``survey_app/models/`` imports no service, no blueprint and not the CLI;
* ``analysis/`` imports neither Flask (nor a ``flask_*`` extension) nor ``survey_app``.

A blueprint package is a folder of ``survey_app/`` with a module that creates a blueprint
(``Blueprint(...)`` or ``OfficialBlueprint(...)``). What two blueprints both need belongs
in a service or in a shared module beside the app factory (``errors``, ``extensions``,
``forms``, ``guard``, ``i18n``, ``ratelimit``).

``tests/analysis/test_analysis_package.py`` checks the analysis package at run time as
well: importing every module in a fresh interpreter loads neither Flask nor the app.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "survey_app"

# Named so that the discovery below cannot quietly find nothing.
KNOWN_BLUEPRINTS = {"public", "public_results", "petitions", "admin", "petitions_admin", "reports", "api", "auth"}


class ImportStatement(NamedTuple):
    path: Path
    line: int
    text: str  # the statement as written, e.g. "from ..auth.forms import ButtonForm"
    modules: tuple[str, ...]  # what it may load, as absolute names: "survey_app.auth.forms", …


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_statements(path: Path) -> Iterator[ImportStatement]:
    """Every import statement of ``path``, anywhere in the file, with relative names resolved.

    ``from a import b`` may load ``a`` and ``a.b`` (``b`` may be a module), so both count."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = tuple(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                source = ".".join(parts + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            modules = ((source,) if node.module else ()) + tuple(
                f"{source}.{alias.name}" for alias in node.names if alias.name != "*")
        else:
            continue
        yield ImportStatement(path, node.lineno, ast.unparse(node), modules)


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def creates_blueprint(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called.endswith("Blueprint"):
                return True
    return False


def blueprint_packages() -> set[str]:
    return {folder.name for folder in APP.iterdir()
            if (folder / "__init__.py").is_file() and any(creates_blueprint(p) for p in python_files(folder))}


def app_package(module: str) -> str | None:
    """``survey_app.admin.routes`` → ``admin``; None outside the app or for a top-level module."""
    parts = module.split(".")
    if parts[0] != "survey_app" or len(parts) < 2:
        return None
    return parts[1] if (APP / parts[1]).is_dir() else None


def violations(folder: Path, forbidden: Callable[[str], str | None]) -> list[str]:
    """One line per import statement under ``folder`` that loads a module ``forbidden`` names
    (it returns why, or None): ``file:line: statement  -> why``."""
    found = []
    for path in python_files(folder):
        for statement in import_statements(path):
            reasons = sorted({r for r in map(forbidden, statement.modules) if r})
            if reasons:
                found.append(f"{path.relative_to(ROOT)}:{statement.line}: {statement.text}  -> {', '.join(reasons)}")
    return found


def report(found: list[str], rule: str) -> str:
    return f"{rule}; {len(found)} import(s) break it:\n  " + "\n  ".join(found)


BLUEPRINTS = blueprint_packages()


def test_the_blueprint_packages_are_found():
    assert BLUEPRINTS >= KNOWN_BLUEPRINTS, f"not recognised as blueprint packages: {KNOWN_BLUEPRINTS - BLUEPRINTS}"
    assert not BLUEPRINTS & {"services", "models", "cli", "templates", "static", "translations"}


def test_the_blueprint_packages_are_the_registered_blueprints():
    from survey_app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-" + "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert {bp.import_name.split(".")[1] for bp in app.blueprints.values()} == BLUEPRINTS


@pytest.mark.parametrize("blueprint", sorted(BLUEPRINTS))
def test_a_blueprint_imports_no_other_blueprint(blueprint):
    def forbidden(module: str) -> str | None:
        other = app_package(module)
        return f"blueprint {other!r}" if other in BLUEPRINTS and other != blueprint else None

    found = violations(APP / blueprint, forbidden)
    assert not found, report(found, f"blueprint {blueprint!r} must not import another blueprint (move what both "
                                    "need into a service or a shared module such as survey_app/forms.py)")


def test_services_import_no_blueprint_and_not_the_cli():
    def forbidden(module: str) -> str | None:
        target = app_package(module)
        return f"{'blueprint' if target in BLUEPRINTS else 'the CLI'} {target!r}" if (
            target in BLUEPRINTS or target == "cli") else None

    found = violations(APP / "services", forbidden)
    assert not found, report(found, "survey_app/services/ must not depend on the web layer or the command line")


def test_models_import_no_service_no_blueprint_and_not_the_cli():
    def forbidden(module: str) -> str | None:
        target = app_package(module)
        return repr(target) if target in BLUEPRINTS or target in {"services", "cli"} else None

    found = violations(APP / "models", forbidden)
    assert not found, report(found, "survey_app/models/ is the bottom layer of the app and imports none of the rest")


def test_analysis_imports_neither_flask_nor_the_app():
    assert len(python_files(ROOT / "analysis")) > 5

    def forbidden(module: str) -> str | None:
        top = module.split(".")[0]
        return top if top == "flask" or top.startswith("flask_") or top == "survey_app" else None

    found = violations(ROOT / "analysis", forbidden)
    assert not found, report(found, "analysis/ is pure statistics: it imports no Flask and nothing of survey_app")


def test_relative_and_lazy_imports_are_resolved():
    """On a real file: an import two levels up and one inside a function come out absolute."""
    loaded = {m for s in import_statements(APP / "services" / "reports" / "views.py") for m in s.modules}
    assert "survey_app.models" in loaded  # from ...models import …
    assert "survey_app.services.officials.scope" in loaded  # from ..officials.scope import …
    assert "survey_app.services.reports.charts" in loaded  # inside render_charts()
