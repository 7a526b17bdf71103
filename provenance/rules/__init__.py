"""Provenance rules, one module per rule family."""
