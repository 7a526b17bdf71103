"""``custody bundle export`` and ``custody bundle verify`` (SPEC §7, §8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import HomeOpt, JsonOpt, KeyFileOpt, PartyOpt, ServerOpt, home_of
from cli.output import (
    EXIT_FAIL,
    EXIT_INCOMPLETE,
    EXIT_OK,
    emit_json,
    err,
    escape,
    fail,
    handle_errors,
    out,
)
from cli.provenance_cmds import ProfileOpt, print_report

OPERATOR_KEY_ENV = "CUSTODY_OPERATOR_KEY"

bundle_app = typer.Typer(
    help="Evidence bundles: export one for a detained entry, verify one offline.",
    no_args_is_help=True,
)

_VERDICT_EXIT = {"pass": EXIT_OK, "fail": EXIT_FAIL, "incomplete": EXIT_INCOMPLETE}
_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}


def register(app: typer.Typer) -> None:
    """Add the ``bundle`` command group to ``app``."""
    app.add_typer(bundle_app, name="bundle")


@bundle_app.command("export")
@handle_errors
def export(
    lot: Annotated[
        str, typer.Argument(help="The subject lot (usually the imported finished good).")
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", metavar="FILE.zip", help="Write the bundle (a zip) here."),
    ],
    entry_number: Annotated[
        str | None,
        typer.Option(
            "--entry-number", help="CBP entry number; an import statement of LOT must declare it."
        ),
    ] = None,
    home: HomeOpt = None,
    server: ServerOpt = None,
    party: PartyOpt = None,
    key: KeyFileOpt = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the evidence bundle of LOT: leaves, proofs, documents and the report."""
    if server:
        from cli.client import remote_bundle

        remote = remote_bundle(server, lot, output, entry_number, party, key, profile)
        if as_json:
            emit_json(remote)
            return
        cp_json = remote["checkpoint"]
        out.print(f"Wrote {escape(str(output))} (from {escape(server)})")
        out.print(
            f"  {remote['entries']} ledger entries with inclusion proofs against checkpoint "
            f"{escape(str(cp_json['origin']))} size {cp_json['size']}"
        )
        out.print(f"  verdict at export: {remote.get('verdict')}")
        return
    from provenance.context import VerificationContext
    from provenance.registry import record_export

    h = home_of(home)
    with VerificationContext.from_home(h, profile=profile) as ctx:
        summary = ctx.export_bundle(lot, output, entry_number=entry_number)
        try:
            record_export(
                h.path, summary.report, ctx.screening, entry_number=entry_number, bundle=output
            )
        except OSError as e:
            err.print(
                f"[yellow]warning:[/] the export was not recorded in the home's registry "
                f"({escape(str(e.strerror or e))}); `custody rescreen` will not compare with it"
            )
    for sha in summary.missing_documents:
        err.print(
            f"[yellow]warning:[/] document {sha} is referenced but not in the document store; "
            "the bundle lists it as missing and its verification will flag it"
        )
    if as_json:
        emit_json(summary.to_json())
        return
    cp = summary.checkpoint
    out.print(f"Wrote {escape(str(output))}")
    out.print(
        f"  {summary.entries} ledger entries with inclusion proofs against checkpoint "
        f"{escape(cp.origin)} size {cp.size}"
    )
    out.print(
        f"  {summary.documents} document(s)"
        + (f", {len(summary.missing_documents)} missing" if summary.missing_documents else "")
    )
    style = _VERDICT_STYLE.get(summary.verdict, "bold")
    out.print(f"  verdict at export: [{style}]{summary.verdict}[/]")


@bundle_app.command("verify")
@handle_errors
def verify(
    bundle: Annotated[Path, typer.Argument(metavar="FILE.zip", help="The bundle (zip) to verify.")],
    operator_key: Annotated[
        str | None,
        typer.Option(
            "--operator-key",
            envvar=OPERATOR_KEY_ENV,
            help=(
                "The ledger operator's verifier key (<origin>+<hash>+<key>), or a file holding "
                "it; obtain it from the operator, not from the bundle."
            ),
        ),
    ] = None,
    entry_number: Annotated[
        str | None,
        typer.Option(
            "--entry-number",
            help=(
                "Verify this CBP entry: the signed import statement declaring it must be in "
                "the bundle, and its lot is verified (the manifest's subject is not trusted)."
            ),
        ),
    ] = None,
    lot: Annotated[
        str | None,
        typer.Option("--lot", help="Verify this lot (whatever the manifest says)."),
    ] = None,
    screening: Annotated[
        Path | None,
        typer.Option("--screening", help="Screening data file (default: the shipped one)."),
    ] = None,
    yields: Annotated[
        Path | None,
        typer.Option("--yields", help="Yield table file (default: the shipped one)."),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help=(
                "A witness verifier key you trust (<name>+<hash>+<key>), or a file holding it; "
                "repeatable. The checkpoint must carry their cosignatures (see --quorum)."
            ),
        ),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(
            "--quorum",
            help="How many of the --witness keys must have cosigned (default: all of them).",
        ),
    ] = None,
    profile: ProfileOpt = None,
    check_html: Annotated[
        bool,
        typer.Option(
            "--check-html/--no-check-html",
            help=(
                "Render the verified report and compare the bundle's report.html with it "
                "(the default); --no-check-html skips that rendering (report.json is always "
                "compared)."
            ),
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Verify a bundle offline; exit 0 pass, 1 fail, 3 incomplete.

    The first line says which lot was verified and whether it was pinned by
    --entry-number / --lot or taken from the bundle's unsigned manifest.
    """
    from provenance.bundle import verify_bundle
    from provenance.rules.profile import load_profile
    from provenance.screening import load_screening
    from provenance.yields import load_yields

    key = _operator_key(operator_key)
    result = verify_bundle(
        bundle,
        operator_key=key,
        entry_number=entry_number,
        lot=lot,
        screening=None if screening is None else load_screening(screening),
        yields=None if yields is None else load_yields(yields),
        profile=load_profile(profile),
        witnesses=[k for w in witness or [] if (k := _operator_key(w))],
        quorum=quorum,
        check_html=check_html,
    )
    if not result.pinned:
        err.print(
            "[bold red]WARNING: the operator key was not pinned.[/] This bundle was checked "
            "against the key it carries itself, so anyone could have made it. Pass "
            "--operator-key with the key obtained from the ledger operator."
        )
    doc = result.to_json()
    if as_json:
        emit_json(doc)
    else:
        print_verification(doc)
    raise typer.Exit(_VERDICT_EXIT.get(result.verdict, EXIT_FAIL))


def _operator_key(value: str | None) -> str | None:
    """The verifier key from ``--operator-key``: the key itself or a file holding it."""
    if value is None:
        return None
    text = value.strip()
    candidate = Path(text).expanduser()
    if text and candidate.is_file():
        try:
            content = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            fail(f"cannot read operator key file {candidate}: {e}")
        lines = [ln.strip() for ln in content.splitlines()]
        keys = [ln for ln in lines if ln and not ln.startswith("#")]
        if not keys:
            fail(f"operator key file {candidate} holds no key")
        return keys[0]
    return text


def subject_line(doc: dict[str, Any]) -> str:
    """The first line of a bundle verdict: the lot verified, and where that came from."""
    verified = doc.get("verified") or {}
    subject = verified.get("subject")
    lot = "(unknown)" if subject is None else escape(str(subject))
    source = verified.get("from")
    if source == "entry_number":
        entry = escape(str(verified.get("entry_number")))
        if subject is None:
            return f"Verified subject: none (CBP entry {entry}: no signed import statement found)"
        return (
            f"Verified subject: lot {lot}, CBP entry {entry} (pinned: its signed import statement)"
        )
    if source == "lot":
        return f"Verified subject: lot {lot} (pinned by --lot)"
    return (
        f"Verified subject: lot {lot} [bold red](NOT pinned: named by the bundle's unsigned "
        "manifest; pass --entry-number or --lot to verify what you mean to verify)[/]"
    )


def print_verification(doc: dict[str, Any]) -> None:
    """The verified subject, what the bundle is, then the report as ``custody verify`` prints it."""
    out.print(subject_line(doc))
    bundle = doc.get("bundle") or {}
    cp = doc.get("checkpoint")
    if cp:
        entry = bundle.get("entry_number")
        claimed = (doc.get("verified") or {}).get("manifest_subject")
        out.print(
            f"Bundle (its manifest names lot {escape(str(claimed))}"
            + (f", CBP entry {escape(str(entry))}" if entry else "")
            + f"): {bundle.get('entries', 0)} proven leaves, {bundle.get('documents', 0)} "
            f"document(s), checkpoint {escape(str(cp['origin']))} size {cp['size']}"
            + ("" if doc.get("pinned") else " [bold red](operator key NOT pinned)[/]")
        )
    if bundle.get("report_html_checked") is False:
        out.print(
            "report.html: not compared with a rendering of the verified leaves "
            "(--no-check-html; `custody bundle view` shows one rendered here)"
        )
    witnesses = doc.get("witnesses")
    if witnesses:
        names = ", ".join(
            f"{c['name']} ({c['time']}"
            + (
                f", later checkpoint of size {c['checkpoint_size']}"
                if "checkpoint_size" in c
                else ""
            )
            + ")"
            for c in witnesses["cosigned"]
        )
        met = "[green]quorum met[/]" if witnesses["met"] else "[bold red]quorum NOT met[/]"
        out.print(
            f"Witnesses: checkpoint cosigned by {escape(names or 'no trusted witness')}: "
            f"{len(witnesses['cosigned'])} of {witnesses['quorum']} required, {met}"
        )
    if doc.get("subject") is None:
        doc = {**doc, "subject": "(unknown: nothing was verified)"}
    print_report(doc)


VIEW_FACTORY = "api.console.offline:app_from_env"


@bundle_app.command("view")
@handle_errors
def view(
    bundle: Annotated[Path, typer.Argument(metavar="FILE.zip", help="The bundle (zip) to view.")],
    operator_key: Annotated[
        str,
        typer.Option(
            "--operator-key",
            envvar=OPERATOR_KEY_ENV,
            help=(
                "The ledger operator's verifier key (<origin>+<hash>+<key>), or a file holding "
                "it; obtain it from the operator, not from the bundle."
            ),
        ),
    ],
    entry_number: Annotated[
        str | None,
        typer.Option("--entry-number", help="Verify this CBP entry (pins the subject)."),
    ] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="Verify this lot.")] = None,
    port: Annotated[
        int, typer.Option(help="Loopback TCP port (0: any free port).", min=0, max=65535)
    ] = 0,
    open_browser: Annotated[
        bool | None,
        typer.Option(
            "--open/--no-open",
            help="Open the page in the default browser (default: when run from a terminal).",
        ),
    ] = None,
) -> None:
    """Verify a bundle here, offline, and show the auditor's page on a loopback port.

    The page is the console's /bundles/verify: the verdict recomputed from the signed
    leaves, each check made, the report. Nothing is sent anywhere; stop with Ctrl-C.
    """
    import os
    import socket
    import sys
    import threading
    import webbrowser

    import uvicorn

    from ledger.checkpoint import parse_verifier_key

    key = _operator_key(operator_key) or ""
    parse_verifier_key(key)
    if not bundle.is_file():
        fail(f"{bundle}: no such bundle file")
    if port == 0:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
    os.environ["CUSTODY_VIEW_BUNDLE"] = str(bundle.resolve())
    os.environ["CUSTODY_VIEW_OPERATOR_KEY"] = key
    os.environ["CUSTODY_VIEW_ENTRY_NUMBER"] = entry_number or ""
    os.environ["CUSTODY_VIEW_LOT"] = lot or ""
    url = f"http://127.0.0.1:{port}/bundles/verify"
    err.print(f"verifying {escape(str(bundle))} here, offline; the page is at {url} (Ctrl-C stops)")
    if open_browser if open_browser is not None else sys.stdout.isatty():
        threading.Timer(1.5, webbrowser.open, args=(url,)).start()
    uvicorn.run(
        VIEW_FACTORY,
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
