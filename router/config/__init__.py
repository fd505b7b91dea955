"""Configuration: claude-code-router's config.json, read once at start."""

from router.config.load import ConfigError, load_config, parse_config
from router.config.schema import Config, ModelInfo, ProviderConfig, WireFormat

__all__ = ["Config", "ConfigError", "ModelInfo", "ProviderConfig", "WireFormat", "load_config", "parse_config"]
