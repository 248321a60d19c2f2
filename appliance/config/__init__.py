"""Configuration: one TOML file validated against a typed schema (DESIGN "Data")."""

from appliance.config.errors import ConfigError, ConfigErrors
from appliance.config.load import config_path_from, load_config, load_config_text
from appliance.config.schema import ApplianceConfig

__all__ = [
    "ApplianceConfig",
    "ConfigError",
    "ConfigErrors",
    "config_path_from",
    "load_config",
    "load_config_text",
]
