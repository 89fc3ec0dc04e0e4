"""The three BPIC 2013 challenge questions answered by signs, on the public log, with the
figures docs/signs.md states (itsm_doctor.signs.document.BPIC2013_FINDINGS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from itsm_doctor.engine import Records, open_records
from itsm_doctor.intake.run import run_intake
from itsm_doctor.signs import compute, get_sign
from itsm_doctor.signs.document import BPIC2013_FINDINGS, RealDataFinding

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def bpic2013(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Records:
    ws = tmp_path_factory.mktemp("bpic2013") / "ws"
    run_intake([data / "bpic2013" / "VINST-incidents.csv.gz"], source="bpic2013", workspace=ws)
    return open_records(ws)


@pytest.mark.parametrize("finding", BPIC2013_FINDINGS, ids=lambda f: f.sign)
def test_documented_figure_is_measured(bpic2013: Records, finding: RealDataFinding) -> None:
    measured = compute(get_sign(finding.sign), bpic2013)
    assert measured.value is not None
    assert round(measured.value, 4) == finding.value
    assert measured.n == finding.of
    assert round(measured.value * measured.n) == finding.count


def test_bpic2013_ping_pong_matches_the_independent_recount(bpic2013: Records) -> None:
    # anchors.md §3.4 recounted X → Y → X with the Python stdlib: 15.6 % of 7,554 cases
    value = compute(get_sign("incident.ping_pong_rate"), bpic2013).value
    assert value == pytest.approx(0.156, abs=0.0005)


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_every_sign_is_the_same_on_spark(bpic2013: Records, data: Path, tmp_path: Path) -> None:
    from itsm_doctor.signs import SIGNS, examine_signs

    ws = tmp_path / "ws"
    run_intake([data / "bpic2013" / "VINST-incidents.csv.gz"], source="bpic2013", workspace=ws)
    on_spark = {f.sign.id: f for f in examine_signs(open_records(ws, engine="spark"))}
    on_duckdb = {f.sign.id: f for f in examine_signs(bpic2013)}
    assert len(on_spark) == len(SIGNS)
    for sign_id, duck in on_duckdb.items():
        spark = on_spark[sign_id]
        assert (spark.value is None) == (duck.value is None), sign_id
        if duck.value is not None:
            assert spark.value == pytest.approx(duck.value, rel=1e-9, abs=1e-9), sign_id
            assert spark.n == duck.n, sign_id
