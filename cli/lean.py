"""Plain ``str``, ``bool`` and ``Path`` parameters coerced without pydantic.

typer (pinned in ``pyproject.toml``) coerces every parameter value through a
pydantic ``TypeAdapter`` built on first use, so any command with an option would
import pydantic: about 0.2 s of start-up, more than the whole of
``custody ledger checkpoint`` otherwise. For the plain types most options have
(``str``, ``bool`` and ``Path``, optional or not, no ``parser=``, no ``path_type``),
the value is coerced here exactly as typer's adapter does it: a ``str`` or a
``bool`` (``--help``, flags) stays as it is, ``None`` stays ``None``; a ``Path``
is ``Path(value)`` followed by typer's own path checks (``coerce_cli_path``:
``exists``, ``file_okay``, ``resolve_path`` ...). Any other type or value goes
through typer's adapter unchanged.

:func:`install` does nothing if typer's internals are not the ones expected (a
newer typer): commands then pay the pydantic import again, and
``tests/cli/test_startup.py`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def install() -> bool:
    """Route plain ``str``/``bool``/``Path`` parameters around pydantic; True if installed."""
    try:
        from typer._click import Context
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - a typer with other internals
        return False
    if getattr(_TyperParameter, "_custody_lean", False):
        return True
    original = _TyperParameter.get_runtime_param

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
            if self.annotation is bool:
                if isinstance(value, bool):
                    return value
            elif isinstance(value, str):
                if self.annotation is str:
                    return value
                return coerce_cli_path(
                    Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
            full = build_runtime_param(param.type_descriptor)
            return full._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: _TyperParameter) -> RuntimeParam:
        if self._runtime_param is None:
            desc = self.type_descriptor
            info = desc.parameter_info
            plain = desc.annotation in (str, bool) or (
                desc.annotation is Path and info.path_type is None
            )
            if plain and desc.file_annotation is None and info.parser is None:
                self._runtime_param = PlainRuntimeParam(
                    parameter_info=info, annotation=desc.annotation
                )
        return original(self)

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    _TyperParameter._custody_lean = True  # type: ignore[attr-defined]
    return True
