"""Per-client token buckets (rate limits of ``docs/api.md``).

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per
second; a request that costs more than the bucket holds is refused with the
time until it would pass. Buckets are kept per client address, in memory, per
server process (with N worker processes a client may get N times the rate);
the least recently used buckets are dropped beyond ``max_clients``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucketLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, client: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; 0.0 if allowed, else seconds to wait (nothing taken)."""
        if not self.enabled or cost <= 0:
            return 0.0
        cost = min(cost, float(self.burst))
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= cost:
                self._buckets[client] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (cost - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait
