"""Fixtures for the engine tests: the sign cases' tiny base log, a workspace with a tiny
BPIC 2013 export taken in, and one shared Spark session."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from itsm_doctor.engine import Records, records_from_arrow
from itsm_doctor.intake.run import run_intake

HERE = Path(__file__).parent
TINY = HERE / "vinst-tiny.csv"


def _sign_cases() -> ModuleType:
    """tests/signs/test_sign_cases.py, which builds Arrow tables from the base log."""
    if "sign_cases" in sys.modules:
        return sys.modules["sign_cases"]
    spec = importlib.util.spec_from_file_location("sign_cases", HERE.parent / "signs" / "test_sign_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sign_cases"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def base_records() -> Callable[[str], Records]:
    """Opens the base log of tests/signs/base_log.yaml on an engine."""

    def open_base(engine: str = "duckdb") -> Records:
        return records_from_arrow(_sign_cases().build_tables({}), engine=engine)

    return open_base


@pytest.fixture(scope="session")
def case_records() -> Callable[[dict[str, Any]], Records]:
    """Opens a sign case's records (``base``, ``drop``, ``add`` as in tests/signs/cases) on DuckDB."""

    def open_case(case: dict[str, Any]) -> Records:
        return records_from_arrow(_sign_cases().build_tables(case))

    return open_case


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the three incidents of vinst-tiny.csv."""
    ws = tmp_path_factory.mktemp("tiny") / "ws"
    run_intake([TINY], source="bpic2013", workspace=ws)
    return ws


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local Spark session for every Spark test (started once: it takes seconds)."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark not installed (extra 'spark')")
    from itsm_doctor.engine import spark_session

    return spark_session()


# PySpark's py4j sockets and its pandas conversion warn; neither is ours to fix
_SPARK_WARNINGS = (
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore:The copy keyword is deprecated",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("spark") is not None:
            for warning in _SPARK_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(warning))
