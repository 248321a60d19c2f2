"""Hardware-in-the-loop: simulators behind every driver seam, traffic, rigs, scenarios."""
