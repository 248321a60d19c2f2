"""A hostile local client of a control socket (issue 13 item 1), run as an unprivileged user.

    python flood_client.py SOCKET connections   500 connections, each pipelining 200
                                                 ``status`` requests and never reading
    python flood_client.py SOCKET subscribe     one ``subscribe`` with 40,000 patterns
    python flood_client.py SOCKET garbage       a 5000-digit id, JSON nested 100,000 deep,
                                                 a 2 MB line

Prints one JSON line saying what the daemon answered. Standard library only: it runs from
the venv's interpreter but imports nothing of the appliance, as an attacker's script would.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5.0)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def connect_surely(path: str) -> socket.socket:
    """One connection for a single hostile request: retried, as an attacker would."""
    error: OSError | None = None
    for _ in range(20):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5.0)
        try:
            sock.connect(path)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
            time.sleep(0.25)
    raise SystemExit(f"cannot connect to {path}: {error}")


def answer(sock: socket.socket) -> dict[str, object]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data.split(b"\n")[0]) if data.strip() else {}


def connections(path: str, hold_s: float = 8.0) -> dict[str, object]:
    burst = b"".join(json.dumps({"id": i, "method": "status"}).encode() + b"\n"
                     for i in range(200))
    opened: list[socket.socket] = []
    refused = 0
    for _ in range(500):
        sock = connect(path)
        if sock is None:
            refused += 1
            continue
        try:
            sock.sendall(burst)
        except OSError:
            refused += 1
            sock.close()
            continue
        opened.append(sock)
    time.sleep(hold_s)  # never read: the daemon must drop us, not wait for us
    for sock in opened:
        sock.close()
    return {"opened": len(opened), "refused": refused}


def subscribe(path: str) -> dict[str, object]:
    sock = connect_surely(path)
    topics = [f"span.{i}.*" for i in range(40_000)]
    started = time.monotonic()
    sock.sendall(json.dumps({"id": 1, "method": "subscribe",
                             "params": {"topics": topics}}).encode() + b"\n")
    reply = answer(sock)
    return {"reply": reply, "seconds": round(time.monotonic() - started, 3)}


def garbage(path: str) -> dict[str, object]:
    sock = connect_surely(path)
    replies = []
    for line in (b'{"id": ' + b"9" * 5000 + b', "method": "status"}',
                 b"[" * 100_000 + b"]" * 100_000,
                 b'{"id": 2, "method": "status", "params": {"x": "' + b"y" * (2 << 20) + b'"}}'):
        sock.sendall(line + b"\n")
        replies.append(answer(sock).get("error", {}))
    sock.sendall(b'{"id": 3, "method": "ping"}\n')
    replies.append(answer(sock))
    return {"replies": replies}


if __name__ == "__main__":
    socket_path, mode = sys.argv[1], sys.argv[2]
    print(json.dumps({"connections": connections, "subscribe": subscribe,
                      "garbage": garbage}[mode](socket_path)))
