"""Fixtures shared by the bundle tests (``exported``, ``foreign``: see bundle_support)."""

from tests.provenance.bundle_support import exported, foreign

__all__ = ["exported", "foreign"]
