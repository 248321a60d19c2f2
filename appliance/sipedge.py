"""appliance-sip-edge: Kamailio, the SIP edge, on the configuration generated from ``[sip]``.

It writes the extensions' credentials into Kamailio's database
(:mod:`appliance.signalling.sip.edgedb`, in the state directory, where usrloc keeps
the registrations too) and ``kamailio.cfg`` into the run directory from the
appliance's TOML, has
``kamailio -c`` check it (:mod:`appliance.signalling.sip.kamailio`; a file that fails
is never put in place), and then becomes Kamailio (``exec``: systemd and the demo
supervise Kamailio itself). With ``[sip] enabled = false`` it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from appliance.config.errors import ConfigErrors
from appliance.config.load import config_path_from, load_config
from appliance.signalling.sip.edgedb import EdgeDatabaseError, db_path, write_credentials
from appliance.signalling.sip.kamailio import KamailioConfigError, write_checked
from appliance.signalling.sip.registrations import rpc_socket

CONFIG_NAME = "kamailio.cfg"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appliance-sip-edge",
                                     description="Kamailio on the appliance's [sip] settings")
    parser.add_argument("--config", help="configuration file (default $APPLIANCE_CONFIG or "
                                         "/etc/appliance/appliance.toml)")
    args = parser.parse_args(argv)
    path = config_path_from(args.config)
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print("appliance-sip-edge: configuration refused; not starting", file=sys.stderr)
        return 2
    if not config.sip.enabled:
        print("appliance-sip-edge: [sip] enabled = false; nothing to run", file=sys.stderr)
        return 0
    kamailio = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/sbin")
    if kamailio is None:
        print("appliance-sip-edge: kamailio is not installed (deps/apt/sip.txt)", file=sys.stderr)
        return 1
    run_dir = Path(config.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = run_dir / CONFIG_NAME
    database = db_path(config.paths.state_dir)
    try:
        count = write_credentials(database, config.sip)
        write_checked(config.sip, cfg, rpc_socket(str(run_dir)), database)
    except (KamailioConfigError, EdgeDatabaseError) as exc:
        print(f"appliance-sip-edge: {exc}", file=sys.stderr)
        return 2
    print(f"appliance-sip-edge: {count} SIP extension(s), {len(config.sip.trunks)} trunk(s)",
          file=sys.stderr)
    # -DD: stay in the foreground (its children still fork), -E: log to stderr (journal)
    os.execv(kamailio, [kamailio, "-DD", "-E", "-f", str(cfg),
                        "-P", str(run_dir / "kamailio.pid")])
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
