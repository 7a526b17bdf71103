"""Planner statistics on PostgreSQL (ledger.store.statistics): where autovacuum is
off, the ledger analyses its own tables as ``entries`` grows; where it is on,
autovacuum does and the ledger leaves it alone. Appends never fail for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ledger.store.statistics import Statistics
from tests.ledger.custody_world import origin_body
from tests.support import World


def _last_analyze(world: World) -> Any:
    with world.ledger.store.engine.connect() as c:
        return c.execute(
            text(
                "SELECT last_analyze FROM pg_stat_user_tables "
                "WHERE relname = 'entries' AND schemaname = current_schema()"
            )
        ).scalar_one()


def _autovacuum_off(world: World) -> bool:
    with world.ledger.store.engine.connect() as c:
        return str(c.execute(text("SHOW autovacuum")).scalar_one()) == "off"


def test_a_growing_ledger_is_analysed_only_where_autovacuum_is_off(pg_world: World) -> None:
    farm = pg_world.party("farm")
    assert _last_analyze(pg_world) is None  # a few entries: below the threshold
    envelopes = [
        farm.envelope("origin", id=f"origin/{i}", **origin_body(f"farm/lot-{i}"))
        for i in range(1100)
    ]
    results = pg_world.ledger.submit(envelopes)
    assert [r.error for r in results if r.error is not None] == []
    pg_world.ledger.store.settle()  # the ANALYZE runs after the append, on its own thread
    if _autovacuum_off(pg_world):
        assert _last_analyze(pg_world) is not None
    else:
        assert _last_analyze(pg_world) is None  # autovacuum's work, not the ledger's


def test_growth_threshold_and_failures(pg_world: World) -> None:
    engine = pg_world.ledger.store.engine
    stats = Statistics(engine, min_rows=10)
    stats.after_append(pg_world.ledger.size())
    if not stats.enabled:  # autovacuum on: nothing to do here, ever
        stats.after_append(10**9)
        assert _last_analyze(pg_world) is None
        return
    assert _last_analyze(pg_world) is None  # first call: only learns the state
    start = stats._analysed_at
    assert start is not None
    stats.after_append(start + 5)
    assert _last_analyze(pg_world) is None  # grew by fewer than min_rows
    stats.after_append(start + 10)
    stats.wait()
    assert _last_analyze(pg_world) is not None
    assert stats._analysed_at == start + 10


def test_a_failure_to_analyse_never_fails_an_append(pg_url: str) -> None:
    from sqlalchemy import create_engine

    missing = create_engine(pg_url.rsplit("/", 1)[0] + "/custody_no_such_database")
    stats = Statistics(missing, min_rows=1)
    stats.after_append(10)  # cannot connect: logged, and the statistics are left alone
    assert stats.enabled is False
    stats.after_append(10**6)
    missing.dispose()


def test_the_analysis_runs_after_the_append_one_at_a_time(pg_world: World) -> None:
    """``after_append`` returns while the ``ANALYZE`` runs on its own thread; an append
    that calls for another one meanwhile starts none; :meth:`wait` waits for it."""
    import threading

    stats = Statistics(pg_world.ledger.store.engine, min_rows=10)
    stats.after_append(pg_world.ledger.size())
    if not stats.enabled:
        return  # autovacuum on: nothing runs
    start = stats._analysed_at
    assert start is not None
    release, runs = threading.Event(), []

    def held() -> None:
        runs.append(threading.current_thread().name)
        assert release.wait(10)

    stats._analyse = held  # type: ignore[method-assign]
    stats.after_append(start + 10)  # returns at once: the analysis waits for `release`
    stats.after_append(start + 100)  # one is running: no second
    release.set()
    stats.wait()
    assert runs == ["custody-analyze"]
    assert stats._analysed_at == start + 10
