"""One `taskmarket serve` per data dir: an exclusive lock on ``<data dir>/serve.lock``.

A second serve on a data dir in use would start migrations, workers and its own Stripe
emulator, then fail on the port and, on its way out, remove the running server's
emulator address. The lock is taken before any of that; the operating system releases it
when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "serve.lock"


class DataDirInUse(RuntimeError):
    """Another process serves this data dir."""


class ServeLock:
    def __init__(self, data_dir: Path):
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> "ServeLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DataDirInUse(
                f"{self.path.parent} is in use by a running `taskmarket serve` (pid {holder}); "
                "stop it first, or give this one another --data-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock; the file stays (harmless)
            self._fd = None
