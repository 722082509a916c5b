"""The examples in the relay's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["oxide_rx.relay.records", "oxide_rx.relay.log", "oxide_rx.relay.protocols",
           "oxide_rx.relay.protocols.base", "oxide_rx.relay.relay"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
