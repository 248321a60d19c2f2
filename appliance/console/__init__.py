"""appliance-console: the field engineer's serial-console screen (OPS-1, MON-1..3)."""
