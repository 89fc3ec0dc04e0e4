"""The questionnaire for many respondents (invitations, answering, progress, spread, self-assessed
against evidenced maturity). Reserved for the questionnaire's engineer: its routes go here,
already included by ``create_app``; its tables go in migration 0004."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
