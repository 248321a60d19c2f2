"""The ``hil`` command: run rigs of simulators (and, later, traffic and scenarios)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import click

from appliance.config.errors import ConfigErrors
from appliance.runtime.logs import setup_logging
from hil.rig import load_rig
from hil.supervisor import RigSupervisor


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Hardware-in-the-loop tools for technicians: simulated rigs and traffic.

    Example: hil run hil/rigs/demo.toml --run-dir /tmp/rig
    """


@cli.command()
@click.argument("rig_file", type=click.Path(dir_okay=False))
@click.option(
    "--run-dir", required=True, type=click.Path(file_okay=False), help="Where simulator sockets go."
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False),
    help="Write the simulators' status here once all are up.",
)
def run(rig_file: str, run_dir: str, ready_file: str | None) -> None:
    """Start every simulator RIG_FILE names; stay until Ctrl-C or SIGTERM, then stop them all.

    Example: hil run hil/rigs/demo.toml --run-dir /tmp/rig
    """
    setup_logging("hil")
    try:
        rig = load_rig(rig_file)
    except ConfigErrors as exc:
        raise click.ClickException(f"rig refused:\n{exc}") from exc

    async def main() -> int:
        supervisor = RigSupervisor(rig, run_dir)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        try:
            await supervisor.start()
        except RuntimeError as exc:
            click.echo(f"hil: {exc}", err=True)
            return 1
        status = await supervisor.status()
        if ready_file:
            with open(ready_file, "w", encoding="utf-8") as handle:
                json.dump(status, handle)
        click.echo(f"hil: rig {rig.name!r} running {len(status)} simulator(s) in {run_dir}")
        code = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                gone = supervisor.exited()
                if gone:
                    click.echo(
                        f"hil: simulator(s) exited unexpectedly: {', '.join(gone)}", err=True
                    )
                    code = 1
                    break
        await supervisor.stop()
        return code

    sys.exit(asyncio.run(main()))


def main() -> None:
    cli(prog_name="hil")


if __name__ == "__main__":
    main()
