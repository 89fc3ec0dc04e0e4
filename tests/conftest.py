"""Shared fixtures: the public logs folder, and a workspace per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def _wide_console() -> Iterator[None]:
    """CLI tables print at 200 columns in tests, so assertions do not depend on wrapping."""
    from itsm_doctor.cli._common import err, out

    saved = (out.width, err.width)
    out.width = err.width = 200
    yield
    out.width, err.width = saved
