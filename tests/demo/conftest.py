"""The demo writes into its data folder: every demo test gets a fresh one."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def demo_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("NETBANK_DATA_DIR", str(folder))
    return folder
