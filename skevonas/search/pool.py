"""Tasks submitted one at a time, results taken as they finish.

The asynchronous search (:mod:`skevonas.evolution.asynchronous`) decides each task
when a worker frees, so it cannot hand joblib a batch. A
:class:`TaskStream` gives it ``submit`` and ``next``, on the parallel
backend that joblib has active, as the generational search uses it:

- one worker (``n_jobs=1``, or joblib's sequential backend): tasks run in
  this process, in order of submission, when their result is asked for;
- joblib's default (loky) backend: its reusable process executor with
  joblib's automatic memory mapping of large arrays, each worker watching
  its parent (:func:`skevonas.search.parallel.worker_pool` does the same);
- joblib's threading backend: a thread pool;
- joblib's Dask backend: the same ``dask.distributed`` client; the shared
  objects (the training data) are scattered to every worker once, and with
  ``resources`` (e.g. ``{"GPU": 1}``) every task asks the scheduler for
  them, so a worker started with ``--resources GPU=1`` runs one candidate
  per GPU.

Results come back one per :meth:`TaskStream.next` call; when several
finished at once, the one submitted first comes first. A worker process
that dies (killed, out of memory, a crash in native code) takes the tasks
it held with it; those run again, one at a time, so the task that kills
its worker is found, and one whose worker dies a second time comes back as
a failed result, as :func:`skevonas.search.parallel.iter_batch` does for a batch.
On Dask, the scheduler already retries such a task on other workers; when
it gives up (``KilledWorker``) the task comes back as failed.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
from joblib.parallel import get_active_backend

from .parallel import WORKER_DEATHS, watch_owner, worker_died

__all__ = ["TaskStream"]

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    order: int
    key: Any
    fn: Callable[..., Mapping[str, Any]]
    args: tuple[Any, ...]
    attempts: int = 0


class TaskStream:
    """Run ``fn(*args)`` tasks on joblib's active backend; take results as they finish.

    Use it as a context manager (it holds the workers).

    Parameters
    ----------
    n_jobs : int or None
        Workers, as joblib counts them.
    shared : sequence, default=()
        Objects that many tasks receive (the training data): on Dask they
        are sent to every worker once, and tasks that receive these very
        objects get the copies already there.
    resources : mapping or None, default=None
        On Dask, what each task asks of the scheduler (``{"GPU": 1}``);
        ignored elsewhere.

    Examples
    --------
    >>> with TaskStream(1) as stream:
    ...     stream.submit("a", dict, [("score", 0.5)])
    ...     stream.submit("b", dict, [("score", 0.7)])
    ...     [stream.next() for _ in range(2)]
    [('a', {'score': 0.5}), ('b', {'score': 0.7})]
    """

    def __init__(
        self,
        n_jobs: int | None,
        shared: Sequence[Any] = (),
        resources: Mapping[str, float] | None = None,
    ) -> None:
        backend, _ = get_active_backend()
        self.kind = _kind(backend, n_jobs)
        self.capacity = _capacity(backend, self.kind, n_jobs)
        self._backend = backend
        self._shared = list(shared)
        self._resources = dict(resources) if resources else None
        self._executor: Any = None
        self._scattered: dict[int, Any] = {}
        self._queue: deque[_Job] = deque()
        self._retry: deque[_Job] = deque()
        self._running: dict[Any, _Job] = {}  # future -> job
        self._done: deque[tuple[Any, Mapping[str, Any]]] = deque()
        self._count = 0
        self._isolated = False

    # ------------------------------------------------------------------ workers
    def __enter__(self) -> TaskStream:
        if self.kind == "dask":
            client = self._backend.client
            self._executor = client
            for obj in self._shared:
                self._scattered[id(obj)] = client.scatter(obj, broadcast=True, hash=False)
        elif self.kind == "threads":
            self._executor = concurrent.futures.ThreadPoolExecutor(self.capacity)
        elif self.kind == "processes":
            self._executor = _process_executor(self.capacity)
        return self

    def __exit__(self, kind: object, *exc_info: object) -> None:
        if self.kind == "threads" and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        elif self.kind == "processes" and self._executor is not None:
            # frees the memory-mapped copies of the data (after an error, at once)
            self._executor.terminate(kill_workers=kind is not None)
        elif self.kind == "dask":
            for future in self._running:
                future.cancel()
        self._executor = None
        self._running.clear()

    # ------------------------------------------------------------------ tasks
    def submit(self, key: Any, fn: Callable[..., Mapping[str, Any]], *args: Any) -> None:
        """Queue ``fn(*args)``; it starts as soon as a worker is free."""
        self._queue.append(_Job(self._count, key, fn, args))
        self._count += 1
        self._pump()

    def next(self) -> tuple[Any, Mapping[str, Any]]:
        """Wait for a task to finish; return ``(key, result)``.

        Raises
        ------
        RuntimeError
            If no task is queued or running.
        """
        while not self._done:
            if self.kind == "serial":
                if not self._queue and not self._retry:
                    raise RuntimeError("no task is queued or running")
                job = (self._retry or self._queue).popleft()
                self._done.append((job.key, job.fn(*job.args)))
                continue
            self._pump()
            if not self._running:
                raise RuntimeError("no task is queued or running")
            self._collect(self._wait())
            self._pump()
        return self._done.popleft()

    # ------------------------------------------------------------------ inside
    def _limit(self) -> int:
        return 1 if self._isolated else self.capacity

    def _pump(self) -> None:
        if self.kind == "serial" or self._executor is None:
            return
        if self._isolated and not self._retry and not self._running:
            self._isolated = False  # every task that was with a dead worker is through
        while len(self._running) < self._limit() and (self._retry or self._queue):
            job = (self._retry or self._queue).popleft()
            self._running[self._start(job)] = job

    def _start(self, job: _Job) -> Any:
        if self.kind == "dask":
            args = [self._scattered.get(id(a), a) for a in job.args]
            extra = {"resources": self._resources} if self._resources else {}
            return self._executor.submit(job.fn, *args, pure=False, **extra)
        try:
            return self._executor.submit(job.fn, *job.args)
        except WORKER_DEATHS:  # the pool broke between tasks: take a new one
            self._executor = _process_executor(self.capacity)
            return self._executor.submit(job.fn, *job.args)

    def _wait(self) -> list[Any]:
        if self.kind == "dask":
            from distributed import wait

            done = wait(list(self._running), return_when="FIRST_COMPLETED").done
        else:
            done = concurrent.futures.wait(
                list(self._running), return_when=concurrent.futures.FIRST_COMPLETED
            ).done
        return sorted(done, key=lambda f: self._running[f].order)

    def _collect(self, finished: list[Any]) -> None:
        died: list[tuple[_Job, BaseException]] = []
        for future in finished:
            job = self._running.pop(future)
            try:
                result = future.result()
            except WORKER_DEATHS as exc:
                died.append((job, exc))
                continue
            except Exception as exc:  # noqa: BLE001 - the task is recorded as failed
                result = _failed(f"{type(exc).__name__}: {exc}")
            self._done.append((job.key, result))
        if not died:
            return
        if self.kind == "dask":  # the scheduler has retried it already
            for job, error in died:
                self._done.append((job.key, worker_died(1, error)))
            return
        alone = self._isolated and len(died) == 1 and not self._running
        # a dead worker breaks the whole loky pool: what was running with it is lost too
        lost = [*died, *((j, died[0][1]) for j in self._running.values())]
        self._running.clear()
        self._executor = _process_executor(self.capacity)
        for job, error in sorted(lost, key=lambda pair: pair[0].order, reverse=True):
            job.attempts += 1
            if alone and job.attempts >= 2:
                logger.warning("task %r: its worker died twice, recorded as failed", job.key)
                self._done.append((job.key, worker_died(job.attempts, error)))
            else:
                self._retry.appendleft(job)
        if not alone:
            logger.warning(
                "a worker died (%s); running the %d unfinished tasks again, one at a time",
                type(died[0][1]).__name__,
                len(lost),
            )
        self._isolated = True


def _kind(backend: Any, n_jobs: int | None) -> str:
    name = type(backend).__name__
    if name == "DaskDistributedBackend":
        return "dask"
    if name == "SequentialBackend" or joblib.effective_n_jobs(n_jobs) == 1:
        return "serial"
    if name == "ThreadingBackend":
        return "threads"
    if name in ("LokyBackend", "MultiprocessingBackend"):
        return "processes"
    raise ValueError(
        f"strategy='asynchronous' runs on joblib's loky, threading, multiprocessing or dask "
        f"backends; the active backend is {name}"
    )


def _capacity(backend: Any, kind: str, n_jobs: int | None) -> int:
    if kind == "serial":
        return 1
    if kind == "dask":
        workers = backend.client.scheduler_info(n_workers=-1).get("workers", {})
        total = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        if n_jobs is None or n_jobs < 0:
            return total
        return int(n_jobs)
    return max(1, joblib.effective_n_jobs(n_jobs))


def _process_executor(n_workers: int) -> Any:
    from joblib.executor import get_memmapping_executor

    return get_memmapping_executor(
        n_workers, initializer=watch_owner, initargs=(os.getpid(),), timeout=300
    )


def _failed(error: str) -> dict[str, Any]:
    return {"score": math.nan, "status": "failed", "error": error}
