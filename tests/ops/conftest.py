"""Metrics in prometheus_client's multiprocess mode, as granian's workers keep them."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import values

from netbank.ops import metrics


@pytest.fixture
def multiprocess_dir(tmp_path: Path) -> Iterator[Path]:
    """This process records into a fresh multiprocess directory, as a server process does
    when PROMETHEUS_MULTIPROC_DIR is set before it starts.

    prometheus_client picks its value class from the environment when imported, and
    netbank.ops.metrics makes its series at import; both are done again here, and undone
    afterwards (the apps call the functions through the module, so they follow)."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    in_process = values.ValueClass
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()
    importlib.reload(metrics)
    try:
        yield directory
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        values.ValueClass = in_process
        importlib.reload(metrics)
