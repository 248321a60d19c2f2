"""ISDN PRI call control (ITU-T Q.921/Q.931, ETSI EN 300 102) on top of libpri 1.6.

:class:`~appliance.signalling.pri.span.PriSpan` drives one E1 D-channel: it
owns the libpri controller, the per-call state machines
(:mod:`appliance.signalling.pri.call`) and the B-channel maintenance states.
"""
