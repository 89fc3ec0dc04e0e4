"""The same sign definitions on PySpark (local mode) give the same numbers as on DuckDB."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.spark,
    # PySpark's py4j sockets and its pandas conversion warn; neither is ours to fix
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark not installed (extra 'spark')"),
]

_spec = importlib.util.spec_from_file_location("sign_cases", Path(__file__).with_name("test_sign_cases.py"))
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
sys.modules["sign_cases"] = cases
_spec.loader.exec_module(cases)


@pytest.mark.parametrize(("sign_id", "case"), cases._cases())
def test_sign_case_on_spark(sign_id: str, case: dict[str, Any]) -> None:
    cases.check(sign_id, case, engine="spark")
