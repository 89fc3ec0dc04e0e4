"""A consultant's portfolio across the organisations they own. Reserved for the questionnaire's
engineer: its routes go here, already included by ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
