"""``itsm-doctor batches``: the batches a workspace holds — list them, remove one, export its
quarantine as CSV (formulas neutralised) to inspect in a spreadsheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from itsm_doctor.cli._common import check_output_file, fail, out, user_errors
from itsm_doctor.intake.workspace import MANIFEST, load_manifest, remove_batch
from itsm_doctor.records.text import neutralise_formula

__all__ = ["batches_app", "batches_list", "batches_quarantine", "batches_remove"]

batches_app = typer.Typer(
    help="The batches of a workspace: every intake taken in, its files, rows and records.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[Path, typer.Option(help="The patient's workspace folder.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="On an error, show the traceback too.")]


def _manifest(workspace: Path) -> dict[str, Any]:
    if not (workspace / MANIFEST).is_file():
        raise fail(f"--workspace {workspace}: no batches here (no {MANIFEST}); run `itsm-doctor intake` first")
    return load_manifest(workspace)


@batches_app.command("list")
def batches_list(
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the batches as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """List the committed batches, oldest first: id, source, date, files, rows and tickets."""
    with user_errors(debug=debug):
        batches = _manifest(workspace)["batches"]
        if as_json:
            shown = [{k: v for k, v in b.items() if k != "intake"} for b in batches]
            out.print_json(json.dumps(shown))
            return
        table = Table(title=f"Batches in {workspace}", title_justify="left")
        for col in ("batch", "source", "taken in", "files", "rows read", "quarantined", "tickets", "superseded"):
            table.add_column(col, justify="left" if col in ("batch", "source", "taken in", "files") else "right")
        for b in batches:
            reports = b.get("intake") or []
            table.add_row(
                b["batch"],
                b.get("source", ""),
                b.get("at", ""),
                ", ".join(Path(f["path"]).name for f in b.get("files") or []),
                f"{sum(r.get('rows_read', 0) for r in reports):,}",
                f"{sum(r.get('rows_quarantined', 0) for r in reports):,}",
                f"{(b.get('records') or {}).get('ticket', 0):,}",
                f"{b.get('superseded', 0):,}",
            )
        out.print(table)
        if not batches:
            out.print("no batch taken in yet", highlight=False)


@batches_app.command("remove")
def batches_remove(
    batch: Annotated[str, typer.Argument(help="The batch id (or a unique beginning of it).", show_default=False)],
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    debug: DebugOpt = False,
) -> None:
    """Remove one batch: its records and quarantine leave the workspace at once (visits stay)."""
    with user_errors(debug=debug):
        _manifest(workspace)
        entry = remove_batch(workspace, batch=batch)
        rows = (entry.get("records") or {}).get("ticket", 0)
        out.print(f"Removed batch {entry['batch']} ({entry.get('source', '')}, {rows:,} tickets).", highlight=False)


@batches_app.command("quarantine")
def batches_quarantine(
    batch: Annotated[str, typer.Argument(help="The batch id (or a unique beginning of it).", show_default=False)],
    csv_file: Annotated[Path, typer.Option("--csv", help="Write the quarantined rows here (CSV, UTF-8).")],
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    debug: DebugOpt = False,
) -> None:
    """Write a batch's quarantined rows as CSV: file, row (the file's line), column, reason,
    detail, record. Cells a spreadsheet would run as formulas are prefixed with '."""
    check_output_file(csv_file, option="--csv")
    with user_errors(debug=debug):
        import pyarrow.parquet as pq

        batches = _manifest(workspace)["batches"]
        found = [b for b in batches if b["batch"].startswith(batch)]
        if len(found) != 1:
            raise fail(f"{batch!r} names {len(found)} batches; `itsm-doctor batches list` shows them")
        [entry] = found
        path = workspace / (entry.get("quarantine") or f"quarantine/{entry['batch']}.parquet")
        rows = pq.read_table(path).to_pylist() if path.is_file() else []
        columns = ("file", "row", "column", "reason", "detail", "record")
        with csv_file.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for r in rows:
                writer.writerow([neutralise_formula(str(r[c])) if isinstance(r[c], str) else r[c] for c in columns])
        out.print(f"{len(rows):,} quarantined row(s) of batch {entry['batch']} written to {csv_file}", highlight=False)
