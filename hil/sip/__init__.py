"""SIP peers of the rig: headless baresip phones as agents (issue 16, deliverable 8)."""
