"""A harmless stand-in for a host command: logs what would have run, and succeeds.

The demo configuration points ``power.shutdown_command``,
``host.network_apply`` and ``host.restart_command`` here, so a low-battery
shutdown or the console's network screen never powers off or reconfigures
the developer's machine. Usage::

    python -m appliance.demo.standin LOG_FILE COMMAND [ARG ...]

Each call appends one JSON line ``{"at": <epoch s>, "argv": [...]}`` to
LOG_FILE and prints ``stand-in: would run: COMMAND ...`` on stderr.
"""

from __future__ import annotations

import json
import shlex
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m appliance.demo.standin LOG_FILE COMMAND [ARG ...]",
              file=sys.stderr)
        return 2
    log_file, command = argv[0], argv[1:]
    try:
        with open(log_file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"at": time.time(), "argv": command}) + "\n")
    except OSError as exc:
        print(f"stand-in: cannot append to {log_file}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"stand-in: would run: {shlex.join(command)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
