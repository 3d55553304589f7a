"""One search per checkpoint folder: an exclusive lock held while a search runs.

A search that writes a ``checkpoint_dir`` holds ``search.lock`` there, an
exclusive :func:`fcntl.flock` taken without waiting: a second search on the
same folder, in this process or another, is refused at once with a
:class:`~skevonas.store.checkpoint.CheckpointError` naming the process that holds
it, instead of the two overwriting (or, on resume, reading) each other's
files. The operating system releases the lock when its process dies, so a
killed search never leaves its folder locked. Where :mod:`fcntl` is missing
(Windows) searches run without a lock.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path
from types import TracebackType

from .checkpoint import CheckpointError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: searches run without a lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "FolderLock"]

logger = logging.getLogger(__name__)

LOCK_FILE = "search.lock"


class FolderLock:
    """An exclusive lock on a checkpoint folder, held while a search runs.

    :meth:`acquire` takes an :func:`fcntl.flock` on ``directory/search.lock``
    without waiting: if another search (in this or another process) holds
    it, :class:`CheckpointError` says so at once. The operating system
    releases the lock when its process dies, so a killed search never leaves
    a folder locked; :meth:`release` also removes the file (and the folder,
    if the lock created it and nothing else was written there). Where
    :mod:`fcntl` is missing (Windows) it does nothing.

    Parameters
    ----------
    directory : path
        The checkpoint folder (created by :meth:`acquire` if missing).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with FolderLock(tmp.name):
    ...     try:
    ...         FolderLock(tmp.name).acquire()
    ...     except CheckpointError as exc:
    ...         print(str(exc)[:28])
    another search is running in
    >>> FolderLock(tmp.name).acquire().release()  # free again
    >>> tmp.cleanup()
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._fd: int | None = None
        self._made_folder = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock, or raise :class:`CheckpointError` if another search has it.

        Returns
        -------
        self : FolderLock

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> lock = FolderLock(tmp.name).acquire()
        >>> lock.held, lock.path.name
        (True, 'search.lock')
        >>> lock.release()
        >>> tmp.cleanup()
        """
        if self._fd is not None:
            return self
        folder = self.path.parent
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._made_folder = True
        if fcntl is None:  # pragma: no cover - Windows
            logger.debug("no fcntl here: %s is not locked", folder)
            return self
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise CheckpointError(
                        f"another search is running in the folder {str(folder)!r} "
                        f"({holder or 'its lock file is ' + str(self.path)}); wait for it to "
                        "end, or give this search another checkpoint_dir"
                    ) from None
                logger.warning("cannot lock %s (%s): the search runs unlocked", folder, exc)
                return self
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode())
                self._fd = fd
                return self
            os.close(fd)  # its holder removed the file as we opened it: again
        raise CheckpointError(f"could not lock {str(self.path)!r}: it keeps changing")

    def release(self) -> None:
        """Give the lock back and remove the lock file (nothing if not held).

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> lock = FolderLock(tmp.name).acquire()
        >>> lock.release(); lock.release()  # twice is fine
        >>> lock.held, lock.path.exists()
        (False, False)
        >>> tmp.cleanup()
        """
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                self.path.unlink(missing_ok=True)  # while still held: see acquire
            finally:
                os.close(fd)
        if self._made_folder:
            self._made_folder = False
            try:
                self.path.parent.rmdir()  # only if nothing was written there
            except OSError:
                pass

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001, S110 - at interpreter exit, the OS does it
            pass


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
