"""``python -m hil.traffic``: the traffic simulator without the ``hil`` wrapper."""

from hil.traffic.cli import traffic

traffic()
