"""Fixtures shared by the provenance tests (``exported``, ``foreign``: see bundle_support).

The chains built here carry no trade documents: they are about custody, quantities,
origins and bundles, so they are judged with the ``custody-only`` document profile
(``CUSTODY_PROFILE``). The document rules and the default ``cbp-uflpa`` profile have
tests of their own that name their profile explicitly (test_evidence_rules.py).
"""

from collections.abc import Iterator

import pytest

from tests.provenance.bundle_support import exported, foreign

__all__ = ["custody_only_profile", "exported", "foreign"]


@pytest.fixture(autouse=True, scope="module")
def custody_only_profile() -> Iterator[None]:
    """Module-scoped, so the module-scoped bundle fixtures are built under it too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTODY_PROFILE", "custody-only")
        yield
