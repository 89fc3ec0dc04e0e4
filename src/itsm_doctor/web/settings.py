"""How the web app is set up: where its store and files live, its secret, its limits."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SECRET_ENV", "WebSettings", "load_secret_key"]

SECRET_ENV = "ITSM_DOCTOR_SECRET_KEY"
SECRET_FILE = "web-secret-key"


def load_secret_key(workspace: Path) -> str:
    """The secret from ``ITSM_DOCTOR_SECRET_KEY``, else from ``WORKSPACE/web-secret-key``,
    made on the first run with a random value and mode 0600 (readable by its owner only)."""
    given = os.environ.get(SECRET_ENV, "").strip()
    if given:
        return given
    path = workspace / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    workspace.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once never write two different secrets
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Everything ``create_app`` needs.

    ``workspace`` holds the SQLite store (unless ``database`` names another), the secret
    key file and, by default, the data folder (uploads, each patient's records).
    """

    workspace: Path
    database: str | None = None
    data_dir: Path | None = None
    secret_key: str | None = None  # None: from the environment or the workspace's file
    max_upload_bytes: int = 512 * 1024 * 1024
    secure_cookies: bool = False  # True behind HTTPS: cookies are sent over TLS only
    session_hours: float = 12.0
    job_workers: int = 1  # examinations at once in this process (0: none; tests run jobs by hand)
    throttle_failures: int = 5  # failed sign-ins per account within the window before a 429
    throttle_ip_failures: int = 20  # failed sign-ins per address within the window
    throttle_minutes: float = 15.0

    @property
    def files(self) -> Path:
        """The data folder: uploads and each organisation's patients' records."""
        return (self.data_dir or self.workspace / "web-data").resolve()

    def key(self) -> str:
        return self.secret_key or load_secret_key(self.workspace)
