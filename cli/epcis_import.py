"""The terminal side of ``custody epcis import``: results, summary, progress bar."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli.attest.signing import Session
from cli.common import home_of
from cli.output import err, escape, out

if TYPE_CHECKING:
    from ledger.sigcheck import ProcessVerifier
    from provenance.epcis.signing import Signer

LARGE = 1 << 20
"""Documents larger than this (bytes) are appended with signatures checked on worker
processes, as ``custody submit`` does for inputs of more than 2,000 envelopes."""


def run_import(
    file: Path,
    key: Path,
    mapping: Path | None,
    home: Path | None,
    as_json: bool,
    server: str | None = None,
    party: str | None = None,
    *,
    each: bool = False,
) -> None:
    from ledger.keys import load_private_key
    from provenance.epcis.importer import EpcisImport

    signer = load_private_key(key)
    verifier: ProcessVerifier | None = None
    builder: Signer | None = None
    if server:
        from cli.client import Client
        from cli.epcis_remote import RemoteDirectory, remote_append

        if not party:
            raise typer.BadParameter("--server needs --party (the party the --key belongs to)")
        client = Client(server)
        client.login(party, signer)
        job = EpcisImport(
            None,
            file,
            signer,
            party,
            mapping,
            directory=RemoteDirectory(client, party),
            append=remote_append(client),
        )
    else:
        session = Session(home_of(home))
        party = session.owner_of(signer)
        ledger = session.ledger()
        if file.stat().st_size > LARGE:
            # as custody submit does for large inputs: signatures checked on worker
            # processes (one per core) while earlier batches are appended
            from ledger.log import Ledger
            from ledger.sigcheck import ProcessVerifier, bulk_collector
            from provenance.epcis.signing import Signer

            verifier = ProcessVerifier(os.cpu_count() or 1, bulk=True)
            # statements built and signed on worker processes too, while the
            # next chunks are mapped and earlier ones appended
            builder = Signer(signer, workers=os.cpu_count() or 1, bulk=True)
            builder.start()  # the workers boot while the document is read through once
            verifier.start(wait=False)
            bulk_collector()
            ledger = Ledger(ledger.store, ledger.operator_key, verifier=verifier)
        job = EpcisImport(ledger, file, signer, party, mapping, signer=builder)
    counts: Counter[str] = Counter()
    bar = _Bar(job.head.events) if not as_json and sys.stderr.isatty() else None
    first = True
    try:
        for results in job.run():
            lines: list[str] = []
            for result in results:
                kind = (
                    "error"
                    if "error" in result
                    else "skipped"
                    if "skipped" in result
                    else "existing"
                    if result.get("duplicate")
                    else "appended"
                )
                counts[kind] += 1
                if as_json:
                    # one compact object a line (the C encoder: 10^5 results stay cheap)
                    text = json.dumps(result, default=str, ensure_ascii=False)
                    lines.append(("[\n  " if first else ",\n  ") + text)
                    first = False
                elif each or kind == "error":
                    _line(result, kind)
            if lines:
                sys.stdout.write("".join(lines))
                sys.stdout.flush()
            if bar is not None:
                bar.update(sum(counts.values()))
    finally:
        if bar is not None:
            bar.stop()
        if verifier is not None:
            verifier.close()
        if builder is not None:
            builder.close()
        if as_json:
            sys.stdout.write("[]\n" if first else "\n]\n")
            sys.stdout.flush()
    if not as_json:
        err.print(
            f"{counts['appended']} appended, {counts['existing']} already in the ledger, "
            f"{counts['skipped']} skipped (other parties), {counts['error']} rejected"
        )
    if counts["error"]:
        raise typer.Exit(1)


def _line(result: dict[str, Any], kind: str) -> None:
    head = f"event {result['event']}"
    if kind == "error":
        error = result["error"]
        out.print(f"[red]{head}: rejected[/] " + escape(f"{error['message']} [{error['code']}]"))
    elif kind == "skipped":
        out.print(f"{head}: skipped, " + escape(result["skipped"]))
    else:
        note = "  (already in the ledger)" if kind == "existing" else ""
        out.print(f"[green]{head}: seq {result['seq']}[/]  {result['digest']}{note}")


class _Bar:
    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self.progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed} of {task.total} events, {task.fields[rate]}/s"),
            console=Console(stderr=True, highlight=False),
            transient=True,
        )
        self.task = self.progress.add_task("import", total=total, rate=0)
        self.started = time.perf_counter()
        self.progress.start()

    def update(self, done: int) -> None:
        rate = round(done / max(time.perf_counter() - self.started, 1e-6))
        self.progress.update(self.task, completed=done, rate=rate)

    def stop(self) -> None:
        self.progress.stop()
