"""The ``hil`` command: run rigs of simulators (and, later, traffic and scenarios)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import click

from appliance.config.errors import ConfigErrors
from appliance.runtime.control import ControlError, call_once
from appliance.runtime.logs import setup_logging
from hil.rig import load_rig
from hil.supervisor import RigSupervisor
from hil.traffic.cli import traffic


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


def _param(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r}: expected KEY=VALUE (VALUE as JSON, or plain text)")
    try:
        value: object = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


@cli.command()
@click.argument("socket", type=click.Path(dir_okay=False))
@click.argument("method")
@click.argument("params", nargs=-1)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the answer.")
def ctl(socket: str, method: str, params: tuple[str, ...], timeout: float) -> None:
    """Send METHOD with KEY=VALUE parameters to a simulator's control socket; print the answer.

    Values are JSON where they parse (on=false, channel=3, digits='"0123"'),
    text otherwise.

    Example: hil ctl /tmp/rig/power.ctl mains on=false
    """
    try:
        arguments = dict(_param(p) for p in params)
    except click.BadParameter as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        answer = asyncio.run(call_once(socket, method, timeout, **arguments))
    except ControlError as exc:
        raise click.ClickException(f"{method}: {exc.message}") from exc
    click.echo(json.dumps(answer, indent=2, sort_keys=True))


cli.add_command(traffic)


def main() -> None:
    cli(prog_name="hil")


if __name__ == "__main__":
    main()
