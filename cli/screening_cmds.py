"""``custody screening update|show`` and ``custody rescreen`` (SPEC §8, §11).

* ``custody screening update FILE``: validate a screening file (schema, strict
  JSON, dates, duplicate entries, a version id never reused for other content)
  and install it in the home (``<home>/screening.json``, atomically; every
  install is kept in ``<home>/screening-history/``); verification then uses it
  and reports its version.
* ``custody screening show``: the version, date, lists and counts in use.
* ``custody rescreen``: re-verify every imported or bundled lot against the
  current lists and print the lots whose verdict or listed entities changed
  (:mod:`provenance.rescreen`). Exit code 0 when nothing changed, 1 when a lot
  changed or could not be verified (and for bad input, as everywhere).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import EXIT_FAIL, EXIT_OK, emit_json, err, escape, handle_errors, out

if TYPE_CHECKING:
    from provenance.context import VerificationContext
    from provenance.rescreen import LotCheck, RescreenResult
    from provenance.screening import ScreeningData

screening_app = typer.Typer(
    help="Screening lists (UFLPA Entity List, CBP WROs and Findings, high-risk regions).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``screening`` group and ``rescreen`` to ``app``."""
    app.add_typer(screening_app, name="screening")
    app.command("rescreen")(rescreen)


@screening_app.command("update")
@handle_errors
def screening_update(
    file: Annotated[Path, typer.Argument(help="A screening file (schema custody-screening/1).")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate FILE and install it as the home's screening list (atomically).

    Refused, changing nothing, when FILE is not strict JSON, breaks the schema,
    has a bad date or a duplicate entry, or reuses an installed version id for
    other content.
    """
    from provenance.context import home_screening
    from provenance.screening import update_screening

    h = home_of(home)
    before = home_screening(h.path)
    data = update_screening(file, h.path)
    if as_json:
        emit_json({**data.describe(), "replaced": before.version})
        return
    out.print(
        f"Installed screening data {escape(data.version)} of {data.date} into "
        f"{escape(str(h.path))} (replaces {escape(before.version)}); verification now uses it."
    )
    if data.date < before.date:
        err.print(
            f"[yellow]warning:[/] the installed data ({data.date}) is older than the data it "
            f"replaces ({before.date})"
        )
    _print_lists(data)
    out.print("Run `custody rescreen` to see which imported or bundled lots this changes.")


@screening_app.command("show")
@handle_errors
def screening_show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Show the screening data verification uses: version, date, lists, counts."""
    from provenance.context import home_screening

    data = home_screening(home_of(home).path)
    if as_json:
        described = data.describe()
        described["regions"] = [
            {"code": r.code, "name": r.name, "materials": r.materials} for r in data.regions
        ]
        emit_json(described)
        return
    out.print(
        f"Screening data {escape(data.version)} (snapshot {escape(str(data.snapshot))}, "
        f"date {data.date})"
    )
    out.print(f"from {escape(data.origin)}, sha256 {data.sha256}")
    _print_lists(data)


def _print_lists(data: ScreeningData) -> None:
    for lst in data.lists:
        out.print(
            f"  {escape(lst.id)}: {len(lst.entries)} entries as of {lst.as_of} "
            f"({escape(lst.title)})"
        )
    out.print(f"  high-risk regions: {len(data.regions)}")
    for r in data.regions:
        materials = "all goods" if r.materials is None else ", ".join(r.materials)
        out.print(f"    {r.code}  {escape(r.name)}  " + escape(f"[{materials}]"))


@handle_errors
def rescreen(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Re-verify every imported or bundled lot against the current screening lists.

    Prints the lots whose verdict or LISTED-ENTITY matches changed: before -> after,
    which listed entity, which screening versions. "Before" is the lot's verdict today
    under the lists its latest bundle export used (a bundled lot) or the lists in
    force when it was imported. Exit code 0 nothing changed, 1 something changed (or
    a lot could not be verified).
    """
    from provenance.context import VerificationContext

    h = home_of(home)
    with VerificationContext.from_home(h) as ctx:
        result = _run(ctx, h.path, bar=not as_json and sys.stderr.isatty())
    if as_json:
        emit_json(result.to_json())
    else:
        _print_result(result)
    raise typer.Exit(EXIT_FAIL if result.changed or result.errors else EXIT_OK)


def _run(ctx: VerificationContext, home: Path, *, bar: bool) -> RescreenResult:
    """Rescreen, with a progress bar on stderr when ``bar`` (a terminal, no --json)."""
    from provenance.rescreen import rescreen as run

    if not bar:
        return run(ctx, home)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("re-verifying lots", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run(ctx, home, progress=step)


def _print_result(result: RescreenResult) -> None:
    s = result.screening
    out.print(
        f"Re-verified {len(result.lots)} imported or bundled lot(s) against screening data "
        f"{escape(s.version)} of {s.date}."
    )
    for c in result.changed:
        _print_change(c)
    for c in result.errors:
        out.print(f"\n[bold red]x[/] lot [bold]{escape(c.lot)}[/]: {escape(str(c.error))}")
    if not result.changed and not result.errors:
        out.print("No verdict or listed entity changed.")
    else:
        out.print(f"\n{len(result.changed)} lot(s) changed, {len(result.errors)} error(s).")


def _print_change(c: LotCheck) -> None:
    entries = ", ".join(c.entry_numbers)
    out.print(
        f"\n[bold]{escape(c.lot)}[/]" + (f" (CBP entry {escape(entries)})" if entries else "")
    )
    how = "used by its bundle export" if c.basis == "bundle" else "in force when imported"
    out.print(
        f"  verdict {c.before_verdict} -> [bold]{c.after_verdict}[/]  "
        f"(screening {escape(c.before_version)}, {how} {escape(c.since)} -> "
        f"{escape(c.after_version)} now)"
    )
    if c.exported is not None and c.exported.verdict != c.before_verdict:
        out.print(f"  its bundle recorded verdict {c.exported.verdict} at export")
    for x in c.newly_listed:
        out.print(f"  [red]+ listed:[/] {escape(x.who)} matches '{escape(x.entry)}' on {x.list_id}")
    for x in c.no_longer_listed:
        out.print(
            f"  [green]- no longer listed:[/] {escape(x.who)} matched '{escape(x.entry)}' "
            f"on {x.list_id}"
        )
