"""``custody ledger tiles ...``: the log as static C2SP tlog-tiles files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import emit_json, escape, handle_errors, out

app = typer.Typer(help="The log as C2SP tlog-tiles (static files).", no_args_is_help=True)


@app.command("export")
@handle_errors
def export(
    directory: Annotated[
        Path, typer.Argument(help="Directory to write checkpoint and tile/ into.", metavar="DIR")
    ],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the checkpoint, tiles and entry bundles into DIR (incremental: full tiles
    already there are kept); serve DIR with any static web server."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ledger.tiles_export import export_tiles

    store = home_of(home).open(with_key=False).store
    if sys.stderr.isatty() and not as_json:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("exporting tiles", total=None)
            result = export_tiles(
                store, directory, lambda done, total: bar.update(task, completed=done, total=total)
            )
    else:
        result = export_tiles(store, directory)
    if as_json:
        emit_json({"directory": str(directory), **result.to_json()})
        return
    out.print(
        f"tree of size {result.size}: {result.written} files written, "
        f"{result.kept} full tiles kept, in " + escape(str(directory))
    )
    for path in result.skipped:
        out.print(f"[yellow]skipped[/] {path}: holds a leaf over 65,535 bytes")
