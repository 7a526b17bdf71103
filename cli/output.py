"""Terminal and ``--json`` output, and the mapping of errors to exit codes (SPEC §8).

Exit codes: 0 success / ``pass``; 1 verification ``fail`` or rejected input;
2 usage error (bad flags, no ledger where one is needed); 3 ``incomplete``.
Errors are one clear line on stderr (or a JSON document on stdout with
``--json``), never a stack trace.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, cast

import typer

from cli.jsontext import dumps_indented
from ledger.errors import ConfigError, CustodyError

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class _LazyConsole:
    """A rich ``Console`` made on first use: rich costs start-up time that
    ``--help`` and plain-text commands do not need."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
err = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))
log = logging.getLogger("custody")


def escape(markup: str) -> str:
    """``rich.markup.escape``, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(markup)


def emit_json(obj: Any) -> None:
    """Write one JSON document to stdout (``json.dumps(obj, indent=2, default=str)``'s
    text, written faster: :mod:`cli.jsontext`)."""
    sys.stdout.write(dumps_indented(obj) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = EXIT_FAIL) -> NoReturn:
    err.print("[bold red]error:[/] " + escape(message))
    raise typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Map custody errors to one stderr line (or JSON) and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CustodyError as e:
            code = EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAIL
            if kwargs.get("as_json"):
                emit_json({"error": e.to_dict()})
                raise typer.Exit(code) from None
            fail(f"{e.message} [{e.code}]", code)
        except OSError as e:
            fail(f"{e.strerror or e}: {getattr(e, 'filename', '') or ''}".rstrip(": "), EXIT_FAIL)

    return wrapper


def read_input(path: str) -> str:
    """Read a file argument; ``-`` is stdin."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")


def short(digest: str | None, n: int = 19) -> str:
    if not digest:
        return "-"
    return digest[:n] + "…"


@contextmanager
def progress_bar(label: str, *, quiet: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """A ``(done, total)`` callback drawing a transient bar on a terminal's stderr; ``None``
    (draw nothing) when stderr is not a terminal or ``quiet`` (``--json``)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
