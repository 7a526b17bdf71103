"""A command tree whose groups import their module only when they are used.

``custody --help`` lists every command but runs none, and ``custody ledger
checkpoint`` runs one: neither should import the modules (and, through them,
the libraries) of the other sixteen. :func:`lazy_group` makes the click group
class of the root ``typer.Typer``: its ``commands`` mapping knows every command
name and one-line help from a static table (:class:`Lazy`) and imports the
command's module, converting what it registers through typer as usual, only
when that command is looked up. The listing in ``--help`` is written from the
table; ``tests/cli/test_startup.py`` checks that it says what the real commands
say.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup
from typer.main import get_group


@dataclass(frozen=True)
class Lazy:
    """A top-level command (or command group) defined in ``module``.

    The module either has ``register(app)``, which adds its commands to a typer
    app, or a typer app ``app`` added under ``name``. ``help`` is what the
    listing shows; it must match the command's own help.
    """

    module: str
    help: str


class LazyCommands(MutableMapping[str, _click.Command]):
    """Commands built so far, plus the names of those not built yet."""

    def __init__(self, built: dict[str, _click.Command], group: LazyGroupBase) -> None:
        self.built = built
        self.group = group

    def _load(self, name: str) -> None:
        entry = self.group.table[name]
        module = importlib.import_module(entry.module)
        app = typer.Typer(
            add_completion=False,
            pretty_exceptions_enable=False,
            rich_markup_mode=self.group.rich_markup_mode,
            suggest_commands=self.group.suggest_commands,
        )
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
        else:
            app.add_typer(module.app, name=name)
        for cmd_name, cmd in get_group(app).commands.items():
            self.built.setdefault(cmd_name, cmd)

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self.built and name in self.group.table:
            self._load(name)
        return self.built[name]

    def __setitem__(self, name: str, cmd: _click.Command) -> None:
        self.built[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        yield from (name for name in self.built if name not in self.group.table)
        yield from self.group.table

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return name in self.built or name in self.group.table

    def is_built(self, name: str) -> bool:
        return name in self.built


class LazyGroupBase(TyperGroup):
    """The root group; :func:`lazy_group` gives it its table."""

    table: ClassVar[dict[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(dict(self.commands), self)

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The listing, from the table for commands not built (nothing imported)."""
        commands = self.commands
        assert isinstance(commands, LazyCommands)
        names = [n for n in commands if not (commands.is_built(n) and commands[n].hidden)]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (
                name,
                commands[name].get_short_help_str(limit)
                if commands.is_built(name)
                else make_default_short_help(self.table[name].help, limit).strip(),
            )
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def lazy_group(table: dict[str, Lazy]) -> type[LazyGroupBase]:
    """The root group class for ``typer.Typer(cls=...)`` with these lazy commands."""
    return type("LazyGroup", (LazyGroupBase,), {"table": table})
