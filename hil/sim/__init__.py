"""Simulated devices, one module per device, each runnable as its own process.

``DEVICES`` maps the device name used in rig files to the module whose
``main(argv)`` runs it (see :mod:`hil.sim.process`).
"""

DEVICES: dict[str, str] = {
    "loopplug": "hil.sim.loopplug",
    "e1": "hil.sim.e1",
    "pstn": "hil.sim.pstn",
    "phone": "hil.sim.phone",
    "mains": "hil.sim.mains",
    "callers": "hil.sim.callers",
}
