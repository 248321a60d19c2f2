"""Hardware-in-the-loop: simulators behind every driver seam, traffic, rigs, scenarios."""

# The simulators' processes run the same numpy DSP as the box: one BLAS thread, set by
# the appliance package before numpy loads (appliance/__init__.py).
import appliance  # noqa: F401
