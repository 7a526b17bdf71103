"""GS1 EPCIS 2.0 / CBV 2.0 at the ledger level: identifiers, event hash IDs, reading.

* :mod:`~ledger.epcis.gs1` — GS1 check digits, GLNs, EPC URIs and GS1 Digital Link;
* :mod:`~ledger.epcis.hashid` — the CBV 2.0 event hash ID;
* :mod:`~ledger.epcis.reader` — streaming, strict reading of EPCIS JSON / JSON-LD;
* :mod:`~ledger.epcis.errors` — :class:`EpcisError` and its codes.

The mapping between EPCIS events and custody statements lives in
:mod:`provenance.epcis`; nothing here knows about provenance.
"""
