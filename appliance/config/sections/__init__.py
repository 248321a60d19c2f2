"""Configuration sections, one module per area of the appliance.

Each module holds the frozen dataclasses of its own TOML tables;
:mod:`appliance.config.schema` assembles them into :class:`ApplianceConfig`.
"""
