"""Run one function in several spawned processes that start their work at the same moment.

Each process gets the same arguments followed by a shared barrier (wait on it just before
the step under test) and a queue (put one result on it). Real processes, each with its own
database connection: what separate app servers would do.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def results_at_once(
    target: Callable[..., None], *args: Any, processes: int = 2, timeout: float = 90
) -> list[Any]:
    """Start ``processes`` copies of ``target(*args, barrier, queue)``; their results, sorted."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    started = [
        context.Process(target=target, args=(*args, barrier, queue)) for _ in range(processes)
    ]
    for process in started:
        process.start()
    try:
        return sorted(queue.get(timeout=timeout) for _ in started)
    finally:
        for process in started:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
