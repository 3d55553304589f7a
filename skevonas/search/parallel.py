"""Running a batch of candidates with joblib, surviving dead workers.

:func:`iter_batch` evaluates tasks with a :class:`joblib.Parallel` created
with ``return_as="generator_unordered"`` and yields each result with its
task index as it arrives, so the caller can order them and the outcome never
depends on completion order; results that arrived before a worker died are
kept. When a worker process dies
(killed, out of memory, a crash in native code), every unfinished task is
run again, each alone, so the one that kills its worker is found: a task
whose worker dies a second time is recorded as failed with the reason. And
the other way round: a worker process whose parent dies exits within about
a second, instead of training on for minutes.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import joblib
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

__all__ = [
    "WORKER_DEATHS",
    "iter_batch",
    "share_once",
    "watch_owner",
    "worker_died",
    "worker_pool",
]

logger = logging.getLogger(__name__)


def _worker_death_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [BrokenProcessPool]  # loky's TerminatedWorkerError too
    try:  # a Dask worker that died too often while running the task
        from distributed.scheduler import KilledWorker

        errors.append(KilledWorker)
    except ImportError:
        pass
    return tuple(errors)


WORKER_DEATHS = _worker_death_errors()


def share_once(*objects: Any) -> contextlib.AbstractContextManager:
    """Inside joblib's Dask backend, send ``objects`` to every worker once.

    On its own, joblib's Dask backend scatters only arguments that Dask
    sizes as large, once per ``Parallel`` call; it sizes the training data
    (a dataclass holding arrays) as small and pickles it into every task.
    Re-entering the backend with the same client and ``scatter=objects``
    sends them once for the whole search; tasks that receive these very
    objects then reference the copies already on the workers. Outside the
    Dask backend this does nothing.
    """
    backend, _ = get_active_backend()
    if type(backend).__name__ != "DaskDistributedBackend":
        return contextlib.nullcontext()
    return joblib.parallel_backend(
        "dask",
        client=backend.client,
        scatter=list(objects),
        wait_for_workers_timeout=backend.wait_for_workers_timeout,
    )


def worker_pool(n_jobs: int | None) -> Parallel:
    """The ``joblib.Parallel`` of a search: results as they come, workers that die with us.

    With joblib's default (loky) backend and more than one worker, every
    worker process starts by watching its parent (:func:`watch_owner`), so
    that even an idle worker exits when the search's process is killed.
    Other backends (threads, Dask, a user's ``parallel_backend`` context)
    are used as they are.
    """
    kwargs: dict[str, Any] = {}
    backend, _ = get_active_backend()
    if type(backend).__name__ == "LokyBackend" and joblib.effective_n_jobs(n_jobs) != 1:
        kwargs = {"initializer": watch_owner, "initargs": (os.getpid(),)}
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered", **kwargs)


def _indexed(index: int, owner: int, fn: Callable[..., dict], *args: Any) -> tuple[int, dict]:
    # args stay separate call arguments, so joblib's Dask backend can match
    # the data against what share_once scattered (it looks arguments up by id)
    watch_owner(owner)
    return index, fn(*args)


# The process whose death ends this worker process (set once per worker).
_WATCHED: int | None = None


def watch_owner(owner: int, interval: float = 1.0) -> None:
    """In a worker process started by ``owner``, exit when ``owner`` dies.

    joblib's loky workers outlive a parent that was killed (SIGKILL, out of
    memory) by minutes, still training and holding their memory. A daemon
    thread polls the parent process id once a second and ends the worker
    (``os._exit``) as soon as it is no longer ``owner``. Nothing happens in
    the owner itself (``n_jobs=1``) or in a process it did not start (a Dask
    worker, whose own nanny looks after it).

    Examples
    --------
    >>> import os
    >>> watch_owner(os.getpid())  # in the owner itself: nothing to watch
    """
    global _WATCHED
    if _WATCHED is not None or os.getpid() == owner or os.getppid() != owner:
        return
    _WATCHED = owner

    def watch() -> None:
        while os.getppid() == owner:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="skevonas-owner-watch", daemon=True).start()


def _noop() -> None:
    return None


def _heal(parallel: Parallel) -> None:
    # After a worker death the executor restarts, but a call made too soon
    # may still see the broken pool: run empty tasks until one goes through,
    # so that the next death is really the next task's.
    for _ in range(5):
        try:
            list(parallel(delayed(_noop)() for _ in range(1)))
            return
        except WORKER_DEATHS:
            continue


def worker_died(attempts: int, exc: BaseException) -> dict[str, Any]:
    """The failed result of a task whose worker died ``attempts`` times running it.

    Examples
    --------
    >>> worker_died(2, MemoryError())["error"]  # doctest: +ELLIPSIS
    'the worker process evaluating this candidate died 2 times (killed, ...): MemoryError'
    >>> worker_died(1, MemoryError())["error"].startswith("the worker process evaluating "
    ...                                                   "this candidate died once")
    True
    """
    times = "once" if attempts == 1 else f"{attempts} times"
    return {
        "score": math.nan,
        "status": "failed",
        "error": (
            f"the worker process evaluating this candidate died {times} "
            f"(killed, out of memory or crashed): {type(exc).__name__}"
        ),
    }


def iter_batch(
    parallel: Parallel, fn: Callable[..., dict], tasks: Sequence[tuple]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``fn(*args)`` for every ``args`` in ``tasks``, in parallel, retrying after worker deaths.

    Yields ``(index, result)`` pairs as tasks finish; every task's result is
    yielded exactly once. ``parallel`` must return results as a generator
    (``return_as="generator_unordered"`` or ``"generator"``).
    """
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    attempts = [0] * len(tasks)
    groups = [list(range(len(tasks)))]
    isolated = False
    while groups:
        group = groups.pop(0)
        try:
            owner = os.getpid()
            jobs = (delayed(_indexed)(i, owner, fn, *tasks[i]) for i in group)
            for index, result in parallel(jobs):
                results[index] = result
                yield index, result
        except WORKER_DEATHS as exc:
            _heal(parallel)
            unfinished = [i for i in group if results[i] is None]
            for i in unfinished:
                attempts[i] += 1
            if isolated:
                # Alone in its batch, so this task killed its worker. (If its
                # result arrived before the death was noticed, nothing is left.)
                for i in unfinished:
                    if attempts[i] >= 2:
                        failed = worker_died(attempts[i], exc)
                        results[i] = failed
                        logger.warning("task %d: worker died twice, recorded as failed", i)
                        yield i, failed
                    else:
                        groups.insert(0, [i])
            else:
                logger.warning(
                    "a worker died (%s); running the %d unfinished candidates again, one at a time",
                    type(exc).__name__,
                    len(unfinished),
                )
                isolated = True
                groups = [[i] for i in unfinished] + groups
