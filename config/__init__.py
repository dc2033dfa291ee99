"""Typed stack config: the `kserve-platform:` keys of `Pulumi.<stack>.yaml`, validated as KServe would.

Pure Python (no Pulumi resources), so every rule is testable on its own and shared by the program, the
offline render and the local MLServer.
"""

from config.errors import ConfigError, ConfigIssue
from config.kserve import KServeConfig
from config.models import ModelConfig
from config.runtimes import RuntimeConfig
from config.stack import PROJECT, StackConfig, parse_stack_config

__all__ = [
    "PROJECT",
    "ConfigError",
    "ConfigIssue",
    "KServeConfig",
    "ModelConfig",
    "RuntimeConfig",
    "StackConfig",
    "parse_stack_config",
]
