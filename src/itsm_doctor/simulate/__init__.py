"""The patient simulator: a synthetic IT organisation with dysfunctions injected on purpose."""

from __future__ import annotations

from itsm_doctor.simulate.model import DYSFUNCTIONS, Organisation, Scenario, Treatment, build_organisation
from itsm_doctor.simulate.write import simulate

__all__ = ["DYSFUNCTIONS", "Organisation", "Scenario", "Treatment", "build_organisation", "simulate"]
