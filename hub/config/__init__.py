"""Configuration: pydantic models and a loader that locates every problem."""

from hub.config.load import LoadedConfig, load_config, validation_problems
from hub.config.models import (
    ConnectorRef,
    FormatRef,
    HubConfig,
    RetryConfig,
    RouteConfig,
    ScheduleConfig,
    ServerConfig,
    SinkRef,
    SourceRef,
    StoreConfig,
    TracingConfig,
    WorkerConfig,
)

__all__ = [
    "ConnectorRef",
    "FormatRef",
    "HubConfig",
    "LoadedConfig",
    "RetryConfig",
    "RouteConfig",
    "ScheduleConfig",
    "ServerConfig",
    "SinkRef",
    "SourceRef",
    "StoreConfig",
    "TracingConfig",
    "WorkerConfig",
    "load_config",
    "validation_problems",
]
