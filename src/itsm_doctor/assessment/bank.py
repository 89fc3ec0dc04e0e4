"""The symptom statements (``symptoms.yaml``): what people report, tied to dysfunctions."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SymptomBank", "SymptomStatement", "load_symptom_bank"]


class SymptomStatement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    statement: str = Field(min_length=10)
    asked_of: Literal["agent", "team_lead", "process_owner", "manager", "customer"]
    dysfunctions: tuple[str, ...] = Field(min_length=1)
    rationale: str = Field(min_length=10)


class SymptomBank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: dict[int, str]
    statements: tuple[SymptomStatement, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.statements)


@cache
def load_symptom_bank() -> SymptomBank:
    text = (resources.files("itsm_doctor.assessment") / "symptoms.yaml").read_text(encoding="utf-8")
    return SymptomBank.model_validate(yaml.safe_load(text))
