"""The worker pool of a search: tasks submitted one at a time, results taken as they finish.

One :class:`WorkerPool` serves a whole search: the candidates both loops ask
for (:class:`~skevonas.search.pipeline.CandidatePipeline`), the finalists'
folds and the refits of the final model. The asynchronous loop decides each
task when a worker frees, so tasks go in one at a time (``submit``) and come
back as they finish (``next``); the generational loop submits a whole
generation (or rung) before it takes the first result, and then the most
expensive tasks start first (``cost``: longest-processing-time order, so the
workers finish together). The pool runs on the parallel backend that joblib
has active:

- one worker (``n_jobs=1``, or joblib's sequential backend): tasks run in
  this process when a result is asked for, most expensive first;
- joblib's default (loky) backend: its reusable process executor with
  joblib's automatic memory mapping of large arrays, each worker watching
  its parent (:func:`watch_owner`);
- joblib's threading backend: a thread pool;
- joblib's Dask backend: the same ``dask.distributed`` client; the shared
  objects (the training data) are scattered to every worker once, and with
  ``resources`` (e.g. ``{"GPU": 1}``) every task asks the scheduler for
  them, so a worker started with ``--resources GPU=1`` runs one candidate
  per GPU.

Results come back one per :meth:`WorkerPool.next` call; when several
finished at once, the one submitted first comes first. A worker process
that dies (killed, out of memory, a crash in native code) takes the tasks
it held with it; those run again, one at a time, so the task that kills
its worker is found, and one whose worker dies a second time comes back as
a failed result (:func:`worker_died`). On Dask, the scheduler already
retries such a task on other workers; when it gives up (``KilledWorker``)
the task comes back as failed. And the other way round: a worker process
whose parent dies exits within about a second, instead of training on for
minutes.
"""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
import math
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import joblib
from joblib.parallel import get_active_backend

__all__ = ["WORKER_DEATHS", "WorkerPool", "Workers", "watch_owner", "worker_died"]

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


# The process whose death ends this worker process (set once per worker).
_WATCHED: int | None = None


def watch_owner(owner: int, interval: float = 1.0, *, started_by_owner: bool = False) -> None:
    """In a worker process started by ``owner``, exit when ``owner`` dies.

    joblib's loky workers outlive a parent that was killed (SIGKILL, out of
    memory) by minutes, still training and holding their memory. A daemon
    thread polls the parent process id once a second and ends the worker
    (``os._exit``) as soon as it is no longer ``owner``. Nothing happens in
    the owner itself (``n_jobs=1``) or in a process it did not start (a Dask
    worker, whose own nanny looks after it). With ``started_by_owner`` (the
    pool's own worker processes), a parent that is no longer ``owner``
    already means that ``owner`` died while this worker was starting: it
    exits at once instead of waiting for tasks that will never come.

    Examples
    --------
    >>> import os
    >>> watch_owner(os.getpid())  # in the owner itself: nothing to watch
    """
    global _WATCHED
    if _WATCHED is not None or os.getpid() == owner:
        return
    if os.getppid() != owner:
        if started_by_owner:  # reparented before it could watch: its owner is gone
            os._exit(1)
        return
    _WATCHED = owner

    def watch() -> None:
        while os.getppid() == owner:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="skevonas-owner-watch", daemon=True).start()


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


@dataclass(order=True)
class _Job:
    # queued jobs start by (-cost, order): the most expensive first, then the earliest
    rank: tuple[float, int]
    key: Any = field(compare=False)
    fn: Callable[..., Mapping[str, Any]] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    attempts: int = field(default=0, compare=False)

    @property
    def order(self) -> int:
        """Its place in the order of submission."""
        return self.rank[1]


@dataclass(frozen=True)
class Workers:
    """Where a search trains, and how many trainings run at once.

    Parameters
    ----------
    device : str or sequence of str, default="cpu"
        The estimator's ``device`` setting (:func:`~skevonas.training.devices.resolve_devices`).
    candidates_per_device : int, default=1
        Candidates training at once on each GPU.
    n_jobs : int or None, default=None
        Workers, as joblib counts them (with GPUs and None, one per GPU slot).
    torch_threads : int or None, default=1
        Torch threads per candidate (None shares the cores among workers).

    Examples
    --------
    >>> Workers(n_jobs=2).device
    'cpu'
    """

    device: str | Sequence[str] = "cpu"
    candidates_per_device: int = 1
    n_jobs: int | None = None
    torch_threads: int | None = 1


class WorkerPool:
    """Run ``fn(*args)`` tasks on joblib's active backend; take results as they finish.

    Use it as a context manager (it holds the workers). A task starts when
    a result is asked for (:meth:`next`) and a worker is free; of the tasks
    waiting, the most expensive (``cost``) first.

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

    Raises
    ------
    ValueError
        If joblib's active backend is not one of loky, threading,
        multiprocessing, sequential or dask.

    Examples
    --------
    >>> with WorkerPool(1) as pool:
    ...     pool.submit("a", dict, [("score", 0.5)])
    ...     pool.submit("b", dict, [("score", 0.7)], cost=2.0)
    ...     [pool.next() for _ in range(2)]  # the costlier task first
    [('b', {'score': 0.7}), ('a', {'score': 0.5})]
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
        self._queue: list[_Job] = []  # a heap
        self._retry: deque[_Job] = deque()
        self._running: dict[Any, _Job] = {}  # future -> job
        self._done: deque[tuple[Any, Mapping[str, Any]]] = deque()
        self._count = 0
        self._isolated = False
        self._context = uuid.uuid4().hex  # this pool's memory-mapped copies of the data

    # ------------------------------------------------------------------ workers
    def __enter__(self) -> WorkerPool:
        if self.kind == "dask":
            client = self._backend.client
            self._executor = client
            for obj in self._shared:
                self._scattered[id(obj)] = client.scatter(obj, broadcast=True, hash=False)
        elif self.kind == "threads":
            self._executor = concurrent.futures.ThreadPoolExecutor(self.capacity)
        elif self.kind == "processes":
            self._executor = _process_executor(self.capacity, self._context)
        return self

    def __exit__(self, kind: object, *exc_info: object) -> None:
        if self.kind == "threads" and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        elif self.kind == "processes" and self._executor is not None:
            _release(self._executor, self._context, kill=kind is not None)
        elif self.kind == "dask":
            for future in self._running:
                future.cancel()
        self._executor = None
        self._running.clear()

    # ------------------------------------------------------------------ tasks
    def submit(
        self, key: Any, fn: Callable[..., Mapping[str, Any]], *args: Any, cost: float = 0.0
    ) -> None:
        """Queue ``fn(*args)``, known by ``key``; it starts when :meth:`next` finds a worker free.

        Among queued tasks the one of highest ``cost`` starts first (ties:
        the one submitted first).

        Examples
        --------
        >>> with WorkerPool(1) as pool:
        ...     pool.submit("cheap", dict, [("score", 1.0)])
        ...     pool.submit("dear", dict, [("score", 2.0)], cost=9.0)
        ...     pool.next()
        ('dear', {'score': 2.0})
        """
        heapq.heappush(self._queue, _Job((-float(cost), self._count), key, fn, args))
        self._count += 1

    def next(self) -> tuple[Any, Mapping[str, Any]]:
        """Wait for a task to finish; return ``(key, result)``.

        A task that raised on a worker comes back as a failed result
        (``status`` ``"failed"`` and the ``error``), and so does one whose
        worker process died twice; with one worker the task runs in this
        process, and what it raises is raised here (the search's workers
        never raise: they return failures as data).

        Raises
        ------
        RuntimeError
            If no task is queued or running.

        Examples
        --------
        >>> with WorkerPool(1) as pool:
        ...     pool.submit("a", dict, [("score", 0.5)])
        ...     pool.next()
        ('a', {'score': 0.5})
        """
        while not self._done:
            if self.kind == "serial":
                if not self._queue and not self._retry:
                    raise RuntimeError("no task is queued or running")
                job = self._retry.popleft() if self._retry else heapq.heappop(self._queue)
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
            job = self._retry.popleft() if self._retry else heapq.heappop(self._queue)
            self._running[self._start(job)] = job

    def _start(self, job: _Job) -> Any:
        if self.kind == "dask":
            args = [self._scattered.get(id(a), a) for a in job.args]
            extra = {"resources": self._resources} if self._resources else {}
            return self._executor.submit(job.fn, *args, pure=False, **extra)
        try:
            return self._executor.submit(job.fn, *job.args)
        except WORKER_DEATHS:  # the pool broke between tasks: take a new one
            self._executor = _process_executor(self.capacity, self._context)
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
        self._executor = _process_executor(self.capacity, self._context)
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


def _process_executor(n_workers: int, context: str) -> Any:
    """loky's reusable executor with joblib's memory mapping, as joblib's loky backend uses it.

    Its workers stay alive between searches (and start again only when the
    settings change), as they do between ``joblib.Parallel`` calls; the
    arrays a pool memory-maps go to a folder of its own ``context``.
    """
    from joblib.executor import get_memmapping_executor

    executor = get_memmapping_executor(
        n_workers, initializer=_watch_started_by, initargs=(os.getpid(),), timeout=300
    )
    manager = getattr(executor, "_temp_folder_manager", None)
    if manager is not None and hasattr(manager, "set_current_context"):
        manager.set_current_context(context)
    return executor


def _release(executor: Any, context: str, kill: bool) -> None:
    """Free the memory-mapped copies a pool made; after an error, end its workers too.

    joblib's own loky backend frees a ``Parallel`` call's copies this way (a
    private method of its folder manager) and keeps the workers for the next
    call; where that method is missing, the executor is shut down instead.
    """
    manager = getattr(executor, "_temp_folder_manager", None)
    clean = getattr(manager, "_clean_temporary_resources", None)
    if kill or clean is None:
        executor.terminate(kill_workers=kill)
        return
    clean(context_id=context, force=False)


def _watch_started_by(owner: int) -> None:
    watch_owner(owner, started_by_owner=True)


def _failed(error: str) -> dict[str, Any]:
    return {"score": math.nan, "status": "failed", "error": error}
