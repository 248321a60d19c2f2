"""Hardware drivers: one contract per device class, backends chosen by address.

Nothing above drivers/ imports a backend module by name; it calls the device
class's ``open_*`` factory with the address from the configuration
(``dahdi:1``, ``sim:/run/appliance/sim/e1-1.sock``, ``i2c:/dev/i2c-1``,
``nut://ups@127.0.0.1:3493``, ``serial:/dev/ttyS1?protocol=megatec``).
"""
