"""Structure check run by ``make structure`` (and so by ``make test``).

Fails, listing every offender, on

* any ``.py`` module over :data:`MAX_LINES` lines under ``ledger/ provenance/ api/
  cli/ bench/ tests/``;
* any import cycle among the project's modules: the packages ``ledger``,
  ``provenance``, ``api``, ``cli`` and ``tests`` (read by grimp, the graph builder
  behind import-linter, *including* imports under ``if TYPE_CHECKING:`` and
  cycles inside one package) and the ``bench/`` scripts (which are not a package
  and import each other by file name).

Each cycle is reported as its strongly connected component (networkx): every
module in it, every import between them (with the line), and one shortest cycle.

    .venv/bin/python tests/check_structure.py            # the checkout
    .venv/bin/python tests/check_structure.py --root DIR --packages a b --scripts s
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
SIZE_DIRS = ("ledger", "provenance", "api", "cli", "bench", "tests")
PACKAGES = ("ledger", "provenance", "api", "cli", "tests")
SCRIPT_DIRS = ("bench",)
SKIP_PARTS = frozenset({"__pycache__", ".venv", "build", "node_modules"})


@dataclass(frozen=True)
class Cycle:
    """One strongly connected component of the import graph."""

    modules: tuple[str, ...]
    imports: tuple[str, ...]  # "a -> b (a.py:12)" for each import inside the component
    example: tuple[str, ...]  # one shortest cycle, first module repeated at the end


def python_files(root: Path, dirs: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        base = root / d
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if not SKIP_PARTS.intersection(path.relative_to(root).parts):
                files.append(path)
    return files


def long_modules(
    root: Path, dirs: Iterable[str] = SIZE_DIRS, limit: int = MAX_LINES
) -> list[tuple[str, int]]:
    """``(path, lines)`` of every module over ``limit`` lines, longest first."""
    out: list[tuple[str, int]] = []
    for path in python_files(root, dirs):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            out.append((path.relative_to(root).as_posix(), lines))
    return sorted(out, key=lambda item: (-item[1], item[0]))


def _package_edges(packages: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(importer, imported, where)`` for every import among the packages' modules."""
    if not packages:
        return []
    graph = grimp.build_graph(
        *packages,
        include_external_packages=False,
        exclude_type_checking_imports=False,
        cache_dir=None,
    )
    edges: list[tuple[str, str, str]] = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported == importer:
                continue
            details = graph.get_import_details(importer=importer, imported=imported)
            lines = sorted({int(d["line_number"]) for d in details})
            where = ", ".join(f"line {n}" for n in lines) or "?"
            edges.append((importer, imported, where))
    return edges


def _script_edges(root: Path, script_dirs: Sequence[str]) -> list[tuple[str, str, str]]:
    """Imports between the scripts of a folder that is not a package (by file name)."""
    edges: list[tuple[str, str, str]] = []
    for d in script_dirs:
        folder = root / d
        if not folder.is_dir() or (folder / "__init__.py").exists():
            continue
        scripts = {p.stem: p for p in sorted(folder.glob("*.py"))}
        for stem, path in scripts.items():
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module.split(".")[0]]
                else:
                    continue
                for name in names:
                    if name in scripts and name != stem:
                        edges.append((f"{d}/{stem}", f"{d}/{name}", f"line {node.lineno}"))
    return edges


def import_cycles(
    root: Path,
    packages: Sequence[str] = PACKAGES,
    script_dirs: Sequence[str] = SCRIPT_DIRS,
) -> list[Cycle]:
    """Every import cycle, as strongly connected components (largest first)."""
    present = [p for p in packages if (root / p / "__init__.py").is_file()]
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        edges = _package_edges(present) + _script_edges(root, script_dirs)
    finally:
        if added:
            sys.path.remove(str(root))
    graph: nx.DiGraph[str] = nx.DiGraph()
    where: dict[tuple[str, str], str] = {}
    for importer, imported, line in edges:
        graph.add_edge(importer, imported)
        where[(importer, imported)] = line
    cycles: list[Cycle] = []
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        members = tuple(sorted(component))
        sub = graph.subgraph(members)
        imports = tuple(f"{a} -> {b} ({where[(a, b)]})" for a, b in sorted(sub.edges()))
        cycles.append(Cycle(members, imports, _shortest_cycle(sub, members[0])))
    return sorted(cycles, key=lambda c: (-len(c.modules), c.modules))


def _shortest_cycle(graph: nx.DiGraph[str], start: str) -> tuple[str, ...]:
    best: list[str] | None = None
    for successor in graph.successors(start):
        path: list[str] = nx.shortest_path(graph, successor, start)
        if best is None or len(path) < len(best):
            best = path
    return (start, *(best or ()))


def report(root: Path, packages: Sequence[str], script_dirs: Sequence[str]) -> list[str]:
    """The problems found, as lines to print; empty when the structure is sound."""
    lines: list[str] = []
    long = long_modules(root, dirs=(*packages, *script_dirs))
    if long:
        lines.append(f"{len(long)} module(s) over {MAX_LINES} lines:")
        lines.extend(f"  {path}: {n} lines" for path, n in long)
    cycles = import_cycles(root, packages, script_dirs)
    if cycles:
        lines.append(f"{len(cycles)} import cycle(s):")
        for cycle in cycles:
            lines.append(f"  cycle of {len(cycle.modules)} modules: {', '.join(cycle.modules)}")
            lines.append(f"    e.g. {' -> '.join(cycle.example)}")
            lines.extend(f"    {imp}" for imp in cycle.imports)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    parser.add_argument("--packages", nargs="*", default=list(PACKAGES), metavar="PKG")
    parser.add_argument("--scripts", nargs="*", default=list(SCRIPT_DIRS), metavar="DIR")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    packages = [p for p in args.packages if p not in args.scripts]
    problems = report(root, packages, args.scripts)
    if problems:
        print("structure check failed:")
        print("\n".join(problems))
        return 1
    print(
        f"structure: every module in {', '.join([*packages, *args.scripts])} is at most "
        f"{MAX_LINES} lines; no import cycles"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
