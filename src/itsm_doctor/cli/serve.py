"""``itsm-doctor serve``: the web app for a team (uvicorn; FastAPI is imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from itsm_doctor.cli._common import err, fail, user_errors
from itsm_doctor.cli._patient import DatabaseOpt

__all__ = ["SERVE_HELP", "serve"]

SERVE_HELP = """Serve the web app: organisations, uploads, examinations as background jobs, the patient's file.

The store is the workspace's SQLite file unless --database names a PostgreSQL server
(postgresql://user@host/db). Create the first administrator with `itsm-doctor admin create`.
The secret key comes from ITSM_DOCTOR_SECRET_KEY, else from WORKSPACE/web-secret-key (made on
the first run, mode 0600). Behind HTTPS, add --secure-cookies. One serve process per store:
at start-up, jobs a stopped process left running are marked failed.
"""


def serve(
    workspace: Annotated[
        Path, typer.Option(help="Folder of the store (SQLite), the secret key, uploads and records.")
    ] = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of uploads and records (default: WORKSPACE/web-data).")
    ] = None,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted, in MiB (per request).")] = 512,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Send cookies over HTTPS only (set behind TLS).")
    ] = False,
    job_workers: Annotated[int, typer.Option(help="Examinations run at once by this process.")] = 1,
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the traceback too.")] = False,
) -> None:
    if not 0 < port < 65536:
        raise fail(f"--port {port}: give a port between 1 and 65535")
    if max_upload_mb < 1:
        raise fail(f"--max-upload-mb {max_upload_mb}: give at least 1")
    with user_errors(debug=debug):
        import uvicorn

        from itsm_doctor.web import WebSettings, create_app

        settings = WebSettings(
            workspace=workspace,
            database=database,
            data_dir=data_dir,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            secure_cookies=secure_cookies,
            job_workers=max(0, job_workers),
        )
        app = create_app(settings)
        err.print(f"ITSM Doctor on http://{host}:{port}/ (Ctrl+C stops it)", highlight=False)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
