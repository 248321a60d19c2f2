"""IVR flows: menus, time conditions, caller lists, routing, surveys (docs/ivr.md)."""
