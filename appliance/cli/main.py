"""appliancectl entry point and its top-level group."""

from __future__ import annotations

import click

from appliance import __version__
from appliance.cli.agents import agents_group
from appliance.cli.audit import audit
from appliance.cli.calls import calls_group
from appliance.cli.common import Context
from appliance.cli.config import config_group
from appliance.cli.db import db_group
from appliance.cli.ivr import ivr_group
from appliance.cli.logs import logs
from appliance.cli.ports import ports_group
from appliance.cli.power import power_group
from appliance.cli.privacy import privacy_group
from appliance.cli.queues import queues_group
from appliance.cli.rec import rec
from appliance.cli.report import report
from appliance.cli.sip import sip_group
from appliance.cli.spans import spans_group
from appliance.cli.status import status
from appliance.cli.users import users_group


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 ok; 1 failed; 2 bad usage or input; 3 daemon not running or not "
    "answering; 4 refused (invalid configuration, failed integrity check).",
)
@click.option(
    "--config",
    "config_option",
    envvar="APPLIANCE_CONFIG",
    metavar="FILE",
    help="Configuration file [env APPLIANCE_CONFIG; default /etc/appliance/appliance.toml].",
)
@click.version_option(__version__, prog_name="appliancectl")
@click.pass_context
def cli(ctx: click.Context, config_option: str | None) -> None:
    """Administer the appliance: status, configuration, spans and ports, calls, queues and
    agents, IVR, recordings, reports, power, users, audit log, database.

    Example: appliancectl status --json
    """
    ctx.obj = Context(config_option)


cli.add_command(status)
cli.add_command(config_group)
cli.add_command(db_group)
cli.add_command(spans_group)
cli.add_command(ports_group)
cli.add_command(sip_group)
cli.add_command(calls_group)
cli.add_command(queues_group)
cli.add_command(agents_group)
cli.add_command(ivr_group)
cli.add_command(rec)
cli.add_command(report)
cli.add_command(power_group)
cli.add_command(privacy_group)
cli.add_command(users_group)
cli.add_command(audit)
cli.add_command(logs)


def main() -> None:
    cli(prog_name="appliancectl")


if __name__ == "__main__":
    main()
