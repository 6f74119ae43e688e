"""The analysis package as a whole: no Flask, no side effects, docs that run."""

import doctest
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["scores", "trends", "compare", "reliability", "suppress", "patterns", "charts", "portal"]


def test_imports_no_flask_in_a_fresh_interpreter():
    every = sorted(p.stem for p in (ROOT / "analysis").glob("*.py") if p.stem != "__init__")
    assert {"counts", "report", "instrument"} <= set(every)
    code = (
        "import analysis, sys; "
        + "".join(f"import analysis.{name}; " for name in every)
        + "assert 'flask' not in sys.modules, 'flask imported'; "
        "assert not any(m == 'survey_app' or m.startswith('survey_app.') for m in sys.modules), 'app imported'; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # no output at import


def test_bare_package_import_stays_light():
    code = "import analysis, sys; assert 'matplotlib' not in sys.modules; assert 'numpy' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", MODULES)
def test_module_all_lists_public_names_with_docs(name):
    module = importlib.import_module(f"analysis.{name}")
    assert module.__doc__
    public = {n for n, obj in vars(module).items()
              if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
              and obj.__module__ == module.__name__}
    assert public <= set(module.__all__)
    for n in module.__all__:
        obj = getattr(module, n)
        if inspect.isfunction(obj):
            doc = obj.__doc__ or ""
            for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
                assert section in doc, f"{name}.{n} lacks {section}"


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"analysis.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_no_assert_used_for_validation():
    for name in MODULES + ["_common"]:
        source = (ROOT / "analysis" / f"{name}.py").read_text(encoding="utf-8")
        assert "\n    assert " not in source and "\n        assert " not in source, name
