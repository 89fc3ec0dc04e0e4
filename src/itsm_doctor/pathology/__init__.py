"""The pathology: the catalog of dysfunctions, as data (one YAML file per dysfunction).

The catalog refers to signs and symptom questions by id only; ``load_catalog`` checks every
sign id against the sign library, and the diagnosis checks question ids against the
questionnaire.
"""

from __future__ import annotations

from itsm_doctor.pathology.load import Catalog, CatalogError, load_catalog
from itsm_doctor.pathology.model import Cause, Differential, Dysfunction, Move, Prescription, SignRule, SymptomRule

__all__ = [
    "Catalog",
    "CatalogError",
    "Cause",
    "Differential",
    "Dysfunction",
    "Move",
    "Prescription",
    "SignRule",
    "SymptomRule",
    "load_catalog",
]
