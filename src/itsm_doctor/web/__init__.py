"""The web app for teams: organisations, uploads, examinations as jobs, the patient's file.

FastAPI with server-rendered Jinja2 pages; every script and stylesheet ships in the package.
``create_app(WebSettings(workspace=…))`` builds it; ``itsm-doctor serve`` runs it with uvicorn.
"""

from __future__ import annotations

from itsm_doctor.web.app import ROUTERS, create_app
from itsm_doctor.web.settings import WebSettings

__all__ = ["ROUTERS", "WebSettings", "create_app"]
