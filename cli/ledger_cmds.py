"""``custody ledger ...``: audit, checkpoint, key, prove, consistency, show, tiles,
rotate-key."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, ServerOpt, home_of
from cli.output import emit_json, err, escape, handle_errors, out, progress_bar
from cli.tiles_cmds import app as tiles_app

app = typer.Typer(help="Inspect, prove and audit the ledger.", no_args_is_help=True)
app.add_typer(tiles_app, name="tiles")


@app.command()
@handle_errors
def audit(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Re-verify the whole ledger from its stored leaves; name the first bad seq."""
    from ledger.audit import audit as run_audit

    ledger = home_of(home).open(with_key=False)
    with progress_bar("auditing", quiet=as_json) as progress:
        report = run_audit(ledger.store, progress)
    if as_json:
        emit_json(report.to_json())
    elif report.ok:
        out.print(
            f"[green]ok[/]: {report.entries_checked} entries, {report.nodes_checked} tree nodes, "
            f"{report.checkpoints_checked} checkpoints verified; root {report.root}"
        )
        for rot in report.key_rotations:
            out.print(
                f"operator key rotated at seq {rot['seq']}: "
                f"{str(rot['old_kid'])[:16]}… -> {str(rot['new_kid'])[:16]}…"
            )
    else:
        first = report.first
        assert first is not None
        where = f"seq {first.seq}" if first.seq is not None else "ledger"
        out.print(f"[red]FAILED[/] at {where}: " + escape(first.message))
        for p in report.problems[1:10]:
            out.print("  also: " + escape(p.message))
        if len(report.problems) > 10:
            out.print(f"  ... and {len(report.problems) - 10} more")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@handle_errors
def checkpoint(
    home: HomeOpt = None,
    server: ServerOpt = None,
    cosigned: Annotated[
        bool,
        typer.Option(
            "--cosigned",
            help="The latest checkpoint witnesses cosigned, with their cosignature lines.",
        ),
    ] = False,
) -> None:
    """Print the latest signed checkpoint (the note text, exactly).

    When the home names witnesses, a line on stderr says which cosigned it.
    """
    if cosigned:
        from cli.witness_cmds import cosigned_note, witness_summary

        note = cosigned_note(home, server)
        sys.stdout.write(note)
        summary = None if server else witness_summary(home, note)
        if summary:
            err.print(escape(summary))
        return
    if server:
        from cli.client import Client

        note = Client(server).checkpoint()
    else:
        h = home_of(home)
        # One row: read it through sqlite3 when that can answer (a fast start);
        # otherwise the store answers, or names the problem, as for every command.
        from ledger.store.peek import latest_checkpoint

        found = latest_checkpoint(h.db_url) if h.exists() else None
        note = found[1] if found is not None else h.open(with_key=False).checkpoint()
    sys.stdout.write(note)
    if not server and (home_of(home).path / "witnesses.json").exists():
        from cli.witness_cmds import witness_summary

        summary = witness_summary(home, note)
        if summary:
            err.print(escape(summary))


@app.command()
@handle_errors
def key(home: HomeOpt = None) -> None:
    """Print the operator's verifier key (C2SP note format)."""
    print(home_of(home).open(with_key=False).verifier_key())


@app.command()
@handle_errors
def prove(
    seq: Annotated[int, typer.Option("--seq", help="Entry to prove.", min=0)],
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size (default: latest).", min=1)
    ] = None,
    home: HomeOpt = None,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Inclusion proof of entry SEQ in the tree of SIZE."""
    if server:
        from cli.client import Client

        data = Client(server).prove(seq, size)
    else:
        data = home_of(home).open(with_key=False).prove(seq, size).to_json()
    if as_json:
        emit_json(data)
        return
    out.print(f"entry {data['seq']} in tree of size {data['size']}")
    out.print(f"leaf hash {data['leaf_hash']}")
    out.print(f"root      {data['root']}")
    for i, h in enumerate(data["proof"]):
        out.print(f"proof[{i}]  {h}")


@app.command()
@handle_errors
def consistency(
    size_from: Annotated[int, typer.Option("--from", help="Older tree size.", min=0)],
    size_to: Annotated[
        int | None, typer.Option("--to", help="Newer tree size (default: latest).", min=0)
    ] = None,
    home: HomeOpt = None,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Consistency proof between two tree sizes."""
    if server:
        from cli.client import Client

        data = Client(server).consistency(size_from, size_to)
    else:
        data = home_of(home).open(with_key=False).consistency(size_from, size_to).to_json()
    if as_json:
        emit_json(data)
        return
    out.print(f"tree {data['from']} -> {data['to']}")
    out.print(f"root {data['from']}: {data['root_from']}")
    out.print(f"root {data['to']}: {data['root_to']}")
    for i, h in enumerate(data["proof"]):
        out.print(f"proof[{i}]  {h}")


@app.command()
@handle_errors
def show(
    seq: Annotated[int, typer.Option("--seq", help="Entry to show.", min=0)],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the leaf at SEQ (with --json: the leaf object itself)."""
    from ledger import strictjson
    from ledger.leaf import decode_leaf

    raw = home_of(home).open(with_key=False).leaf(seq)
    leaf = decode_leaf(raw, seq)  # an IntegrityError for anything but a ledger leaf
    if as_json:
        emit_json(strictjson.loads(raw))
        return
    out.print(f"seq {leaf.seq}  received {leaf.received_at}")
    out.print(f"prev {leaf.prev}")
    for s in leaf.envelope.signatures:
        out.print(f"signed by key {s.keyid}")
    out.print("statement:")
    leaf.parse_statement()  # a statement (so bounded depth), else an IntegrityError
    print(json.dumps(json.loads(leaf.envelope.payload), indent=2))


@app.command("rotate-key")
@handle_errors
def rotate_key(
    new_key: Annotated[
        Path,
        typer.Option(
            "--new-key", help="The new operator private key file (`custody keys generate`)."
        ),
    ],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rotate the operator key: a rotation entry signed by the old and the new key, the
    old key retired; later checkpoints are signed by the new key, and the home's
    operator.key is replaced atomically (the old one kept in retired/)."""
    from ledger.keys import load_private_key
    from ledger.rotation_home import rotate_operator_key

    result = rotate_operator_key(home_of(home), load_private_key(new_key))
    if as_json:
        emit_json(result.to_json())
        return
    if result.rotation_seq is None:
        out.print("the ledger had rotated already; the home's operator key is now the new key")
    else:
        out.print(
            f"rotated at seq {result.rotation_seq} (old key retired at seq {result.retire_seq})"
        )
    out.print(f"old key {result.old_kid[:16]}… kept in {escape(str(result.retired_path))}")
    out.print("new verifier key (auditors who pinned the old key follow the rotation):")
    print(result.verifier_key)
