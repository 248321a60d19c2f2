"""``hil traffic``: simulated callers and agents driving the real IVR and ACD in virtual time."""
