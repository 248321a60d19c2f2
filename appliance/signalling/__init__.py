"""Signalling state machines (DESIGN "One picture"): ISDN PRI over libpri, analog FSMs.

They talk to hardware only through the span/port driver contracts in drivers/.
"""
