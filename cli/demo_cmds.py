"""``custody demo``: the end-to-end story in a fresh home, for each kind of user."""

from __future__ import annotations

import shutil
import sys
import time
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.output import emit_json, escape, fail, handle_errors, out
from ledger.home import Home

MARKER = ".custody-demo"
VERDICT_STYLE = {"pass": "bold green", "incomplete": "bold yellow", "fail": "bold red"}


def _prepare(out_dir: Path) -> None:
    """Start from a fresh folder; replace only a previous demo's folder."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            fail(f"{out_dir} exists and is not a custody demo folder; choose another --out", 2)
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("made by custody demo; safe to delete\n", encoding="utf-8")


def _verdict(v: str) -> str:
    return f"[{VERDICT_STYLE.get(v, 'bold')}]{v.upper()}[/]"


def _composition(report_json: dict[str, Any]) -> str:
    parts = []
    for share in report_json["composition"]:
        where = share["subdivision"] or share["country"]
        parts.append(f"{float(share['share']):.1%} {where} {share['material']}")
    untraced = float(report_json["untraced_share"])
    if untraced:
        parts.append(f"{untraced:.1%} untraced")
    return ", ".join(parts) or "-"


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def demo(
        out_dir: Annotated[
            Path, typer.Option("--out", help="Folder for the demo's home, keys, bundles, reports.")
        ] = Path("custody-demo"),
        quiet: Annotated[bool, typer.Option("--quiet", help="Print only the summary.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    ) -> None:
        """Run the end-to-end story: four supply chains, verified, bundled, audited offline."""
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.rule import Rule

        from cli.demo import SCENARIOS, STEPS, Story
        from ledger.audit import audit
        from provenance.bundle import verify_bundle
        from provenance.context import VerificationContext
        from provenance.registry import record_export
        from provenance.render import trace_text

        started = time.perf_counter()
        _prepare(out_dir)
        home = Home(out_dir / "home")
        show = not (quiet or as_json)
        results: list[dict[str, Any]] = []
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            transient=True,
            disable=not show,
        ) as bar:
            task = bar.add_task("initialising the ledger", total=None)
            ledger, _ = home.init(origin="demo.custody.example/ledger")
            story = Story(home, ledger, out_dir / "keys", out_dir / "documents")
            for label, build in STEPS:
                bar.update(task, description=f"suppliers sign and submit: {label}")
                build(story)
            ctx = VerificationContext.from_home(home, ledger=ledger)
            screening = ctx.screening
            (out_dir / "bundles").mkdir()
            (out_dir / "reports").mkdir()
            vkey = ledger.verifier_key()
            (out_dir / "operator.vkey").write_text(vkey + "\n", encoding="utf-8")
            for sc in SCENARIOS:
                bar.update(task, description=f"importer verifies and bundles: {sc.title}")
                report = ctx.verify(sc.subject)
                zip_path = out_dir / "bundles" / f"{sc.key}-{sc.entry_number}.zip"
                summary = ctx.export_bundle(sc.subject, zip_path, entry_number=sc.entry_number)
                record_export(
                    home.path, summary.report, screening, entry_number=sc.entry_number,
                    bundle=zip_path,
                )  # fmt: skip
                bar.update(task, description=f"CBP auditor verifies offline: {sc.title}")
                checked = verify_bundle(zip_path, operator_key=vkey, screening=screening)
                html = out_dir / "reports" / f"{sc.key}.html"
                with zipfile.ZipFile(zip_path) as z:
                    html.write_bytes(z.read("report.html"))
                rj = report.to_json()
                results.append(
                    {
                        "scenario": sc.key,
                        "title": sc.title,
                        "subject": sc.subject,
                        "entry_number": sc.entry_number,
                        "verdict": report.verdict,
                        "expected": sc.expect,
                        "bundle_verdict": checked.verdict,
                        "bundle": str(zip_path),
                        "report": str(html),
                        "rules": sorted(
                            {f["rule"] for f in rj["findings"] if f["severity"] in ("error", "gap")}
                        ),
                        "composition": rj["composition"],
                        "untraced_share": rj["untraced_share"],
                        "entries_in_bundle": summary.entries,
                    }
                )
                if show:
                    out.print(Rule(f"{sc.title} — entry {sc.entry_number}"))
                    out.print(escape(trace_text(report)))
                    out.print(
                        f"verdict: {_verdict(report.verdict)}   composition: "
                        + escape(_composition(rj))
                    )
                    for f in rj["findings"]:
                        if f["severity"] in ("error", "gap"):
                            style = "bold red" if f["severity"] == "error" else "yellow"
                            out.print(f"  [{style}]{f['rule']}[/] " + escape(f["message"]))
                    pin = "pinned operator key" if checked.pinned else "UNPINNED key"
                    out.print(
                        f"bundle: {escape(str(zip_path))} ({summary.entries} signed leaves, "
                        f"{summary.documents} documents)"
                    )
                    out.print(f"auditor, offline with the {pin}: {_verdict(checked.verdict)}")
                    out.print(f"report: {escape(str(html))}")
            bar.update(task, description="auditing the whole ledger")
            audited = audit(ledger.store)
        elapsed = time.perf_counter() - started
        if as_json:
            emit_json(
                {
                    "out": str(out_dir),
                    "home": str(home.path),
                    "statements": story.count,
                    "audit_ok": audited.ok,
                    "seconds": round(elapsed, 2),
                    "scenarios": results,
                }
            )
        else:
            out.print(Rule("done"))
            n_parties = len(list((out_dir / "keys").glob("*.key")))
            out.print(
                f"{story.count} signed statements from {n_parties} "
                f"parties; ledger audit: {'[green]clean[/]' if audited.ok else '[red]FAILED[/]'}; "
                f"{elapsed:.1f} s"
            )
            for r in results:
                out.print(
                    f"  {_verdict(r['verdict'])}  {escape(r['title'])}  "
                    f"(offline: {r['bundle_verdict']})"
                )
            out.print(
                f"\nEverything is in {escape(str(out_dir))}/: home/ (the ledger), keys/, "
                "documents/, bundles/, reports/ (open the .html files in a browser)."
            )
            out.print("Try next:")
            if shutil.which("custody") is None:
                out.print(f"  source {escape(str(Path(sys.executable).parent / 'activate'))}")
            h = escape(str(home.path.resolve()))
            out.print(f"  export CUSTODY_HOME={h}")
            out.print("  custody trace angkor-garments/tshirts-2026-07")
            out.print("  custody verify assembler/modules-2026-03 --json")
            out.print("  custody verify indus-home/towels-2026-11   # documents per hop, checklist")
            out.print(
                f"  custody bundle verify {escape(str(out_dir))}/bundles/"
                "polysilicon-NMR-2026002-2.zip --entry-number NMR-2026002-2 "
                f'--operator-key "$(cat {escape(str(out_dir))}/operator.vkey)"'
            )
            out.print("  custody ledger audit")
            out.print("  custody serve        # the HTTP API on http://127.0.0.1:8000/docs")
        mismatched = [
            r
            for r in results
            if r["verdict"] != r["expected"] or r["bundle_verdict"] != r["verdict"]
        ]
        if mismatched or not audited.ok:
            raise typer.Exit(1)
