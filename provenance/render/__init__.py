"""Render a verified trace as text, Graphviz DOT or JSON (SPEC §6, §8 ``custody trace``).

* :func:`trace_json`: the SPEC §10 verification report plus the provenance
  graph in networkx node-link form (``graph.nodes``, ``graph.edges``; node
  and edge kinds as in :mod:`provenance.graph`). It is the machine-readable
  trace, and the others can be rendered from it alone (a CLI talking to a
  server gets this document and draws the same text).
* :func:`trace_text`: an indented tree from the finished good down to its
  origins; each line names the party, the place, the quantity and the date,
  and nodes named by findings are marked (``[x RULE]`` error, ``[? RULE]``
  gap, ``[! RULE]`` warning, ``[i RULE]`` info). A lot reached twice (a
  diamond) is drawn once and referred to afterwards. Every :data:`MAX_INDENT`
  levels a ``┆ depth N`` line says the tree goes on at the left margin, so a
  10,000-deep chain stays readable (nothing walks a trace recursively).
* :func:`trace_dot`: Graphviz DOT text of the lots, statements and external
  inputs (parties appear in labels), flagged nodes drawn in red (errors) or
  orange (gaps), statements off the custody path dashed.

Every function accepts a :class:`provenance.verify.Report` or the document
:func:`trace_json` returns.

Modules: :mod:`~provenance.render.document` (the JSON document, shared field
formatting), :mod:`~provenance.render.text`, :mod:`~provenance.render.dot`.
"""

from provenance.render.document import TRACE_SCHEMA, trace_json
from provenance.render.dot import trace_dot
from provenance.render.text import MAX_INDENT, trace_text

__all__ = ["MAX_INDENT", "TRACE_SCHEMA", "trace_dot", "trace_json", "trace_text"]
