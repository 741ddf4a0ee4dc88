"""One writer per reports folder: an exclusive advisory lock on `<reports>/.lock`.

Two runs writing one folder would interleave: the last to finish would silently own results.json,
index.html and junit.xml, over cells the other one judged. So a run takes the folder before its
first cell and gives it back when it finishes; a second run (or `zai-conformance report` writing
there) is refused at once, never made to wait, with a message naming the run that holds it.

flock, not a pid file: the kernel releases the lock when its holder exits, however it exits, so
the file a killed run leaves behind blocks nothing. The holder writes who it is (pid, run id) into
the file only for the message; the file is never deleted (deleting a lock file lets two processes
hold locks on two different files of the same name).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock; the folder is not guarded there
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class ReportsBusy(Exception):
    """Another process holds the reports folder; the message names it and says what to do."""


class ReportsLock:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, holder: str) -> None:
        """Take the folder for `holder` (who we are, for the message another process would get), or
        raise ReportsBusy at once. Taking it again while held is a no-op."""
        if self._handle is not None or fcntl is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")  # "a+": opening must not wipe the holder's note
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "it has not said which yet"
            handle.close()
            raise ReportsBusy(
                f"{self.folder} is in use by another zai-conformance run ({other}); wait for it to finish, "
                "or give this one its own folder with --reports DIR"
            ) from None
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(holder + "\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the folder back (the kernel would, at exit; a session that finishes says so now)."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        handle.truncate(0)
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    def __enter__(self) -> ReportsLock:
        self.acquire(f"pid {os.getpid()}, zai-conformance report")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
