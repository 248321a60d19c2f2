"""A UNIX stream socket served by threads, for simulated devices reached as files.

The board's I2C bus and the hardware watchdog are device files on the box;
their simulators stand behind a UNIX socket instead. This base listens,
accepts each connection on its own thread (``serve``), may turn a connection
away (``admit``), and on :meth:`close` stops accepting and removes the socket.
"""

from __future__ import annotations

import os
import socket
import threading


class ThreadedUnixServer:
    def __init__(self, path: str, name: str) -> None:
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(4)
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=name, daemon=True)
        self._thread.start()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def admit(self, conn: socket.socket) -> bool:
        """Whether to serve this connection (a device open by someone else refuses)."""
        return True

    def serve(self, conn: socket.socket) -> None:
        """Handle one connection until it closes or the server stops."""
        conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.admit(conn):
                conn.close()
                continue
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=1.0)
        if os.path.exists(self.path):
            os.unlink(self.path)
