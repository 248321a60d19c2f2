"""One writer thread for the daemon's appended rows (issue 13 "one writer thread").

The event loop hands each batch of rows to :class:`DatabaseWriter` as a function
of a connection and goes on; the thread commits it on its own connection, so a
slow or locked database (another process holding the write lock up to the
busy timeout, a slow flash card) never stalls the tick.

Overflow policy: the queue holds ``capacity`` batches. When it is full the
producer blocks until there is room (the last resort: rows are never dropped)
and every such wait is counted in :attr:`DatabaseWriter.overflows` and logged.
A batch the database refuses is retried every ``retry_s`` seconds, in order,
until it commits or the writer stops; a batch abandoned at stop is logged with
its error and counted in :attr:`DatabaseWriter.failures`.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable

log = logging.getLogger("appliance.store")

Work = Callable[[sqlite3.Connection], None]


class DatabaseWriter:
    """Commits queued batches in order, one transaction each, on a thread of its own."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, capacity: int = 10_000,
                 retry_s: float = 0.5) -> None:
        self._connect = connect
        self._queue: queue.Queue[Work | None] = queue.Queue(maxsize=capacity)
        self._retry_s = retry_s
        self.overflows = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Work) -> None:
        """Queue one batch; blocks only when ``capacity`` batches already wait."""
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            self.overflows += 1
            log.error("database writer queue full (%d batches): the daemon waits for the "
                      "database (overflow %d)", self._queue.maxsize, self.overflows)
            self._queue.put(work)

    def flush(self) -> None:
        """Return once every batch queued so far is committed (or given up at stop)."""
        self._queue.join()

    def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                work = self._queue.get()
                try:
                    if work is None:
                        return
                    self._commit(conn, work)
                finally:
                    self._queue.task_done()
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, work: Work) -> None:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                work(conn)
                conn.execute("COMMIT")
                return
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if self._queue.queue and self._queue.queue[-1] is None:  # stop() is waiting
                    self.failures += 1
                    log.error("database writer gives up a batch at stop: %s", exc)
                    return
                log.error("database refuses a batch (%s); retrying in %.1f s", exc, self._retry_s)
                time.sleep(self._retry_s)
            except Exception:  # a bug in the batch itself: retrying cannot heal it
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self.failures += 1
                log.exception("database writer: a batch failed and is dropped (failure %d); "
                              "the writer goes on", self.failures)
                return
