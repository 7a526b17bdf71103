"""Data shipped with provenance: screening lists, name-matching word lists, yields (see SOURCES.md).

A package (not a namespace) so that the wheel ships its files as package data.
"""
