"""custody provenance package."""
