"""Shared fixtures: the public logs folder, and a workspace per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("ITSM_DOCTOR_DATA", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data() -> Path:
    """The folder of real public logs; tests needing it are skipped, saying why, when absent."""
    folder = data_dir()
    if not folder.is_dir():
        pytest.skip(f"real logs not found at {folder} (set ITSM_DOCTOR_DATA to the shared/data folder)")
    return folder


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"
