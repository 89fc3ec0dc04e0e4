"""The shape of a dysfunction file (``catalog/<id>.yaml``), validated at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Cause",
    "Differential",
    "Dysfunction",
    "Move",
    "Prescription",
    "SignRule",
    "SymptomRule",
]

KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignRule(_Strict):
    """Evidence from a sign: beyond ``threshold`` (``above`` or ``below``) it supports the
    dysfunction, on the other side it speaks against it. The strength grows linearly over
    ``width`` (in the sign's unit) and is capped at ±1; contribution = strength × weight."""

    sign: str
    above: float | None = None
    below: float | None = None
    width: float = Field(gt=0)
    weight: float = Field(gt=0, le=5)
    against: float = Field(default=1.0, ge=0, le=1, description="share of the weight used when the sign speaks against")
    role: Literal["for", "against"] = Field(
        default="for", description="'against': past the threshold the sign rules the dysfunction out (a differential)"
    )
    discriminating: bool = Field(
        default=True,
        description="the sign alone separates sick from healthy; a verdict needs at least one such sign measured",
    )

    @model_validator(mode="after")
    def _one_side(self) -> SignRule:
        if (self.above is None) == (self.below is None):
            raise ValueError(f"sign {self.sign}: give exactly one of 'above' or 'below'")
        return self


class SymptomRule(_Strict):
    """Evidence from a symptom statement: mean agreement (1–5) above 3 supports."""

    question: str = Field(pattern=KEBAB)
    weight: float = Field(gt=0, le=5)


class Move(_Strict):
    sign: str
    direction: Literal["up", "down"]


class Prescription(_Strict):
    id: str = Field(pattern=KEBAB)
    title: str = Field(min_length=5)
    actions: tuple[str, ...] = Field(min_length=1)
    practice: str
    owner: str
    sphere: Literal["team", "department", "enterprise"]
    effort: Literal["low", "medium", "high"]
    cause: str | None = None
    moves: tuple[Move, ...] = Field(min_length=1)
    follow_up_days: int = Field(ge=7, le=365)


class Cause(_Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    prior: float = 0.0
    signs: tuple[SignRule, ...] = ()
    symptoms: tuple[SymptomRule, ...] = ()


class Differential(_Strict):
    dysfunction: str = Field(pattern=KEBAB)
    telling_sign: str
    note: str


class Dysfunction(_Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    description: str = Field(min_length=40)
    prior: float = Field(default=-1.5, description="log-odds before any evidence")
    min_signs: int = Field(default=1, ge=1, description="measured discriminating signs needed for a verdict")
    signs: tuple[SignRule, ...] = Field(min_length=1)
    symptoms: tuple[SymptomRule, ...] = ()
    differential: tuple[Differential, ...] = ()
    causes: tuple[Cause, ...] = Field(min_length=1)
    prescriptions: tuple[Prescription, ...] = Field(min_length=1)
    references: tuple[str, ...] = Field(min_length=1)
    needs_visits: int = Field(default=1, ge=1, description="visits needed before a verdict (stagnant improvement)")
