"""``custody trace`` and ``custody verify`` (SPEC §6, §8, §10).

* ``custody trace LOT [--format text|json|dot]``: the provenance graph (an
  indented tree by default; ``json`` is :func:`provenance.render.trace_json`;
  ``dot`` is Graphviz).
* ``custody verify LOT [--json]``: findings grouped by severity, composition,
  verdict; ``--json`` prints exactly the SPEC §10 document (plus the
  screening and yield table versions). Exit code 0 ``pass``, 1 ``fail``, 3
  ``incomplete``; a lot the ledger does not know is exit 1 with one line on
  stderr.
* ``custody screening update|show`` and ``custody rescreen`` live in
  :mod:`cli.screening_cmds`.

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
    from provenance.verify import Report

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
    """Add ``trace`` and ``verify`` to ``app``."""
    app.command("trace")(trace)
    app.command("verify")(verify)


# --------------------------------------------------------------------------- seam


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        envvar="CUSTODY_PROFILE",
        help="Document policy profile: cbp-uflpa (default), custody-only, or a profile file.",
    ),
]


def local_report(lot: str, home: Path | None, profile: str | None = None) -> Report:
    """Verify ``lot`` in the home's verification context (:mod:`provenance.context`)."""
    from provenance.context import VerificationContext

    with VerificationContext.from_home(home_of(home), profile=profile) as ctx:
        return ctx.verify(lot)


def report_json(
    lot: str,
    *,
    home: Path | None = None,
    server: str | None = None,
    party: str | None = None,
    key: Path | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """The SPEC §10 verification report of ``lot``, from the home's ledger, or from
    a server (logged in as ``party`` with the private ``key`` file)."""
    if server is not None:
        from cli.client import remote_report

        return remote_report(server, lot, party, key, profile)
    return local_report(lot, home, profile).to_json()


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
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify LOT: findings by severity, documents per hop, composition by origin, verdict.

    Exit code 0 pass, 1 fail, 3 incomplete.
    """
    doc = report_json(lot, home=home, server=server, party=party, key=key, profile=profile)
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
    retracted = doc.get("retracted") or []
    if retracted:
        out.print(f"\nRetracted, void ({len(retracted)}):")
        for r in retracted:
            by = r.get("retracted_by") or {}
            out.print(
                f"  seq {r['seq']} {r['type']} by {escape(str(r['issuer']))}: "
                f"{escape(str(r['reason']))} (seq {by.get('seq')} {by.get('type')})"
            )
    if doc.get("documents"):
        from provenance.render.matrix import matrix_text

        out.print("\n" + escape(matrix_text(doc["documents"])), end="")
    if doc.get("screening_version"):
        out.print(
            f"\nScreening data {escape(str(doc.get('screening_version')))}, "
            f"yield table {escape(str(doc.get('yields_version')))}"
        )
    out.print(f"verdict: [{style}]{verdict}[/]")
