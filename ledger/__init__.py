"""custody ledger: keys, DSSE envelopes, statements, RFC 6962 Merkle math,
C2SP checkpoints, the custody state machine, storage, append and audit."""

__version__ = "0.1.0"
