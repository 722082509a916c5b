"""Every example in oxide_rx's docstrings runs and prints what it says (as ``python -m doctest``
would run it, with ``ox`` bound to ``oxide_rx`` as the examples assume).

The package is walked with ``pkgutil``, so a module that moves or appears is picked up. An
example that needs a network, an API key or a running loop is marked ``# doctest: +SKIP`` where
it is written; modules whose optional dependencies are missing are skipped, naming the extra.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from types import ModuleType

import pytest

import oxide_rx

OPTIONAL = {"openai": "compat", "pydantic": "pydantic", "textual": "ui", "matplotlib": "bench"}
"""Top-level packages an oxide_rx module may need beyond the core, and the extra with them."""

FINDER = doctest.DocTestFinder(exclude_empty=True)


def _module_names() -> list[str]:
    found = pkgutil.walk_packages(
        oxide_rx.__path__, prefix=f"{oxide_rx.__name__}.", onerror=lambda name: None
    )
    return [oxide_rx.__name__, *sorted(info.name for info in found)]


def _optional_missing(error: ImportError) -> str | None:
    """The optional package whose absence ``error`` reports, if that is what it reports."""
    missing = (error.name or "").partition(".")[0]
    return missing if missing in OPTIONAL else None


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    tests = FINDER.find(module, module.__name__, extraglobs={"ox": oxide_rx})
    return [test for test in tests if test.examples]


def _runs_any(tests: list[doctest.DocTest]) -> bool:
    return any(not ex.options.get(doctest.SKIP) for test in tests for ex in test.examples)


def _modules_to_run() -> list[str]:
    """Modules with an example that runs (not all ``+SKIP``), and those that cannot be imported
    (the test says why: a missing extra is a skip, anything else a failure)."""
    names = []
    for name in _module_names():
        try:
            module = importlib.import_module(name)
        except ImportError:
            names.append(name)
            continue
        if _runs_any(_examples(module)):
            names.append(name)
    return names


MODULES = _modules_to_run()


def test_the_package_is_walked_whole() -> None:
    names = _module_names()
    assert len(names) > 10
    assert {"oxide_rx.sse", "oxide_rx.testing"} <= set(names)
    assert MODULES, "no docstring examples found anywhere in oxide_rx"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        missing = _optional_missing(error)
        if missing is None:
            raise
        pytest.skip(f"{name} needs {missing}: pip install 'oxide_rx[{OPTIONAL[missing]}]'")
    report = io.StringIO()
    runner = doctest.DocTestRunner()
    failed = [test.name for test in _examples(module) if runner.run(test, out=report.write).failed]
    assert not failed, f"examples failed in {', '.join(failed)}:\n{report.getvalue()}"
