"""What the routes share: one :class:`Services` per app (``app.state.services``).

The type lives here, not in the app factory, so that ``api.app`` (which builds
it) and ``api.deps`` and the routes (which use it) import it from one module
below them all, and no import cycle runs through the factory.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.ingest import Committer
from api.ratelimit import TokenBucketLimiter
from api.settings import Settings
from api.tokens import TokenStore
from api.visibility import ScopeCache
from ledger.home import Home
from ledger.log import Ledger


@dataclass
class Services:
    """What the routes share: one per app (``app.state.services``)."""

    settings: Settings
    home: Home
    ledger: Ledger
    tokens: TokenStore
    committer: Committer
    submit_limiter: TokenBucketLimiter
    auth_limiter: TokenBucketLimiter
    scopes: ScopeCache

    def close(self) -> None:
        self.committer.close()
        self.ledger.store.close()
