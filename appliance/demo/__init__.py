"""The demo: both daemons and the simulated rig, in a temporary state folder."""
