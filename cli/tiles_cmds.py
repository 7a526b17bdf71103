"""``custody ledger tiles ...``: the log as static C2SP tlog-tiles files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import emit_json, escape, handle_errors, out, progress_bar

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
    from ledger.tiles_export import export_tiles

    store = home_of(home).open(with_key=False).store
    with progress_bar("exporting tiles", quiet=as_json) as progress:
        result = export_tiles(store, directory, progress)
    if as_json:
        emit_json({"directory": str(directory), **result.to_json()})
        return
    out.print(
        f"tree of size {result.size}: {result.written} files written, "
        f"{result.kept} full tiles kept, in " + escape(str(directory))
    )
    for path in result.skipped:
        out.print(f"[yellow]skipped[/] {path}: holds a leaf over 65,535 bytes")
