"""A daemon's start-up heap is frozen so a collection never walks it, and every collection's
pause is measured (issue 13: no tick late by more than 10 ms under a flood)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from appliance.runtime.collector import CollectorWatch


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def watch() -> Iterator[CollectorWatch]:
    watch = CollectorWatch()
    yield watch
    watch.stop()


def test_the_start_up_heap_is_frozen_and_a_full_collection_walks_only_what_came_since(
        watch: CollectorWatch) -> None:
    startup = [Cycle() for _ in range(20_000)]
    frozen = watch.freeze_startup_heap()
    assert frozen == gc.get_freeze_count() >= len(startup)
    assert watch.status()["frozen"] == frozen
    tracked = {id(o) for o in gc.get_objects(generation=2)}
    assert not any(id(o) in tracked for o in startup[:100])  # no generation holds them

    del startup  # start-up cycles stay put (the price: documented in the module)
    Cycle()  # garbage made after start-up is collected as ever
    assert gc.collect() >= 1
    watch.stop()
    assert gc.get_freeze_count() == 0  # stop hands the heap back (an in-process test's)


def test_each_collection_is_counted_and_the_worst_pause_kept(watch: CollectorWatch) -> None:
    ticks = iter([10.0, 10.004, 20.0, 20.0125, 30.0, 30.001])
    watch.clock = lambda: next(ticks)
    gc.disable()  # only the collections asked for below
    try:
        watch.start()
        for generation in (0, 2, 1):
            Cycle()
            gc.collect(generation)
    finally:
        gc.enable()
    status = watch.status()
    assert status["collections"] == [1, 1, 1]
    assert status["collected"] >= 3
    assert status["worst_pause_ms"] == 12.5 and status["worst_generation"] == 2
    watch.stop()
    gc.collect()  # no longer watching: the clock (exhausted) is not asked again
    assert watch.status()["collections"] == [1, 1, 1]
