"""GS1 EPCIS 2.0 ↔ custody statements (``docs/epcis.md``).

* :mod:`~provenance.epcis.events` — one event → one statement (the mapping table);
* :mod:`~provenance.epcis.mapping` — master data from the header and the mapping file;
* :mod:`~provenance.epcis.directory` — the ledger questions the mapping asks;
* :mod:`~provenance.epcis.importer` — the streamed import (map, sign, append).
"""
