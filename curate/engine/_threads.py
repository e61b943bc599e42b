"""Thread-parallel loops over independent blocks of numpy work.

numpy releases the GIL in its sorting, selection and fancy-indexing kernels, which run on one core; a
loop of many small matrix products gains little from BLAS threads. Such loops (ranking the probe order of
row chunks, searching many small inverted lists) therefore run on a thread per core, with BLAS held to
one thread each so the threads do not oversubscribe the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[Any], T], items: Iterable[Any], workers: int | None = None) -> Iterator[T]:
    """``map(fn, items)`` in order, on ``workers`` threads (default: one per core) with one BLAS thread each.

    Results are yielded as they complete in order, so a caller can report progress; with one worker
    (or one item) it is a plain loop.
    """
    items = list(items)
    workers = min(len(items), workers or cores())
    if workers <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    pool = ThreadPoolExecutor(workers)
    try:
        with threadpool_limits(1):
            yield from pool.map(fn, items)
    finally:  # an error, Ctrl-C or a consumer that stops: queued blocks are dropped, not run
        pool.shutdown(wait=True, cancel_futures=True)
