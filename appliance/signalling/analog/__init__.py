"""Analog signalling: FXO (carrier line) and FXS (phone) state machines.

Modules: :mod:`fxo` and :mod:`fxs` (the state machines), :mod:`channel` (their
common part over the media engine), :mod:`cadence` (ring cadence check),
:mod:`callerid` / :mod:`callerid_tx` / :mod:`receivers` (caller ID),
:mod:`dialplan`, :mod:`countries` (national profiles), :mod:`switch`
(phone-to-phone and phone-to-line calls, hold and transfer) and
:mod:`service` (building all of it from ``[[rig.ports]]``). See docs/analog.md.

This package's ``__init__`` imports nothing so that the configuration schema
can use :mod:`countries` and :mod:`dialplan` without loading the media engine.
"""
