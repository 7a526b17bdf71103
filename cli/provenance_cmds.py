"""``custody trace``, ``custody verify`` and ``custody screening`` (SPEC §6, §8, §10).

* ``custody trace LOT [--format text|json|dot]``: the provenance graph (an
  indented tree by default; ``json`` is :func:`provenance.render.trace_json`;
  ``dot`` is Graphviz).
* ``custody verify LOT [--json]``: findings grouped by severity, composition,
  verdict; ``--json`` prints exactly the SPEC §10 document (plus the
  screening and yield table versions). Exit code 0 ``pass``, 1 ``fail``, 3
  ``incomplete``; a lot the ledger does not know is exit 1 with one line on
  stderr.
* ``custody screening update FILE``: validate a screening file and install it
  in the home (``<home>/screening.json``); verification then uses it and
  reports its version. ``custody screening show``: the version, lists and
  counts in use.

Verification goes through the home's verification context
(:class:`provenance.context.VerificationContext`): the home's screening file
if one is installed (else the shipped one), ``<home>/yields.json`` if present
(else the shipped yield table), and the document store. :func:`report_json`
and :func:`trace_document` are the seam for a remote ledger (``--server``):
each returns the JSON document the commands render, from the home's ledger today.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import HomeOpt, JsonOpt, KeyFileOpt, PartyOpt, ServerOpt, home_of
from cli.output import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_OK, emit_json, escape, handle_errors, out

if TYPE_CHECKING:
    from provenance.screening import ScreeningData
    from provenance.verify import Report

screening_app = typer.Typer(
    help="Screening lists (UFLPA Entity List, CBP WROs and Findings, high-risk regions).",
    no_args_is_help=True,
)

VERDICT_EXIT = {"pass": EXIT_OK, "fail": EXIT_FAIL, "incomplete": EXIT_INCOMPLETE}
_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}
_SEVERITY = {
    "error": ("Errors", "red", "x"),
    "gap": ("Gaps", "yellow", "?"),
    "warning": ("Warnings", "magenta", "!"),
    "info": ("Information", "blue", "i"),
}


class TraceFormat(StrEnum):
    text = "text"
    json = "json"
    dot = "dot"


def register(app: typer.Typer) -> None:
    """Add ``trace``, ``verify`` and the ``screening`` group to ``app``."""
    app.command("trace")(trace)
    app.command("verify")(verify)
    app.add_typer(screening_app, name="screening")


# --------------------------------------------------------------------------- seam


def local_report(lot: str, home: Path | None) -> Report:
    """Verify ``lot`` in the home's verification context (:mod:`provenance.context`)."""
    from provenance.context import VerificationContext

    with VerificationContext.from_home(home_of(home)) as ctx:
        return ctx.verify(lot)


def report_json(
    lot: str,
    *,
    home: Path | None = None,
    server: str | None = None,
    party: str | None = None,
    key: Path | None = None,
) -> dict[str, Any]:
    """The SPEC §10 verification report of ``lot``, from the home's ledger, or from
    a server (logged in as ``party`` with the private ``key`` file)."""
    if server is not None:
        from cli.client import remote_report

        return remote_report(server, lot, party, key)
    return local_report(lot, home).to_json()


def trace_document(
    lot: str,
    *,
    home: Path | None = None,
    server: str | None = None,
    party: str | None = None,
    key: Path | None = None,
) -> dict[str, Any]:
    """The trace document (:func:`provenance.render.trace_json`) of ``lot``."""
    if server is not None:
        from cli.client import remote_trace

        return remote_trace(server, lot, party, key)
    from provenance.render import trace_json

    return trace_json(local_report(lot, home))


# --------------------------------------------------------------------------- commands


@handle_errors
def trace(
    lot: Annotated[str, typer.Argument(help="The lot to trace (usually an imported good).")],
    fmt: Annotated[
        TraceFormat,
        typer.Option("--format", "-f", help="text (a tree), json or dot (Graphviz)."),
    ] = TraceFormat.text,
    home: HomeOpt = None,
    server: ServerOpt = None,
    party: PartyOpt = None,
    key: KeyFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Trace LOT back to its origins: every transform, hand-off and external input."""
    doc = trace_document(lot, home=home, server=server, party=party, key=key)
    if as_json or fmt is TraceFormat.json:
        emit_json(doc)
    elif fmt is TraceFormat.dot:
        from provenance.render import trace_dot

        typer.echo(trace_dot(doc), nl=False)
    else:
        from provenance.render import trace_text

        typer.echo(trace_text(doc), nl=False)


@handle_errors
def verify(
    lot: Annotated[str, typer.Argument(help="The lot to verify (usually an imported good).")],
    home: HomeOpt = None,
    server: ServerOpt = None,
    party: PartyOpt = None,
    key: KeyFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify LOT: findings by severity, composition by origin, verdict.

    Exit code 0 pass, 1 fail, 3 incomplete.
    """
    doc = report_json(lot, home=home, server=server, party=party, key=key)
    verdict = str(doc["verdict"])
    if as_json:
        emit_json(doc)
    else:
        print_report(doc)
    raise typer.Exit(VERDICT_EXIT.get(verdict, EXIT_FAIL))


def print_report(doc: dict[str, Any]) -> None:
    """The human form of a SPEC §10 report."""
    verdict = str(doc["verdict"])
    style = _VERDICT_STYLE.get(verdict, "bold")
    out.print(f"Verification of lot [bold]{escape(str(doc['subject']))}[/]")
    findings = doc.get("findings") or []
    for severity, (title, color, mark) in _SEVERITY.items():
        group = [f for f in findings if f.get("severity") == severity]
        if not group:
            continue
        out.print(f"\n[{color}]{title} ({len(group)})[/]")
        for f in group:
            out.print(f"  [{color}]{mark} {f['rule']}[/]  " + escape(str(f["message"])))
    if not findings:
        out.print("\nNo findings.")
    out.print("\nMass composition by origin:")
    for s in doc.get("composition") or []:
        where = s.get("subdivision") or s.get("country")
        out.print(f"  {float(s['share']) * 100:7.2f}%  {escape(str(where))}  {s['material']}")
    out.print(f"  {float(doc.get('untraced_share') or 0) * 100:7.2f}%  untraced")
    if doc.get("screening_version"):
        out.print(
            f"\nScreening data {escape(str(doc.get('screening_version')))}, "
            f"yield table {escape(str(doc.get('yields_version')))}"
        )
    out.print(f"verdict: [{style}]{verdict}[/]")


@screening_app.command("update")
@handle_errors
def screening_update(
    file: Annotated[Path, typer.Argument(help="A screening file (schema custody-screening/1).")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate FILE and install it as the home's screening list."""
    from provenance.screening import update_screening

    h = home_of(home)
    data = update_screening(file, h.path)
    if as_json:
        emit_json(data.describe())
        return
    out.print(
        f"Installed screening data {escape(data.version)} into {escape(str(h.path))}; "
        "verification now uses it."
    )
    _print_lists(data)


@screening_app.command("show")
@handle_errors
def screening_show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Show the screening data verification uses: version, lists, counts."""
    from provenance.context import home_screening

    data = home_screening(home_of(home).path)
    if as_json:
        described = data.describe()
        described["regions"] = [
            {"code": r.code, "name": r.name, "materials": r.materials} for r in data.regions
        ]
        emit_json(described)
        return
    out.print(f"Screening data {escape(data.version)} (snapshot {escape(str(data.snapshot))})")
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
