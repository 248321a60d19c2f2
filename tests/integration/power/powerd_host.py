"""Hosts PowerService in its own process, as appliance-powerd does, for the kill tests.

Usage: powerd_host.py BOARD_SOCK WATCHDOG_SOCK UPS_TTY TELEPHONYD_SOCK
SIGTERM stops it in order (lifeline, then the watchdog's magic close).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build
from appliance.power import PowerService
from appliance.runtime.clock import RealClock
from drivers.board import open_board
from drivers.ups import open_ups
from drivers.watchdog import open_watchdog


async def main(board: str, watchdog: str, ups: str, telephonyd: str) -> None:
    problems: list[Problem] = []
    config = build(PowerSection, {
        "ups_poll_interval": 0.2, "rail_poll_interval": 0.02, "telephony_check_interval": 0.1,
        "telephony_timeout": 1.0, "watchdog_interval": 0.25, "relay_check_interval": 0.1,
        "shutdown_command": ["true"],
    }, ("power",), problems)
    assert not problems, problems

    async def health() -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(telephonyd), 0.5)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b'{"method": "health"}\n')
            line = await asyncio.wait_for(reader.readline(), 0.5)
            return b'"ok": true' in line
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    async def prepare(deadline: float) -> bool:
        return True

    service = PowerService(
        config, RealClock(), ups=open_ups(f"serial:{ups}?protocol=megatec&timeout=0.3"),
        board=open_board(f"sim:{board}"), watchdog=open_watchdog(f"sim:{watchdog}"),
        telephony_health=health, telephony_prepare_shutdown=prepare,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await service.start()
    print("STARTED", flush=True)
    await stop.wait()
    await service.stop()
    print("STOPPED", flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(*sys.argv[1:5]))
