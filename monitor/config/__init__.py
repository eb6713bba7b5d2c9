"""config.toml: the only package that opens it.

``settings`` declares every setting as a pydantic field (default, limits, description);
``load`` reads and validates the file and words every mistake as one line naming file, line and
key; ``docs`` generates the README's settings table from the same fields.
"""

from monitor.config.fields import CATEGORIES
from monitor.config.load import load_config, parse_config
from monitor.config.outputs import FeedFilter, NotifySettings
from monitor.config.settings import (
    ARRAYS,
    DEFAULT_TERMS,
    DEFAULT_USER_AGENT,
    SECTIONS,
    AlertsSettings,
    Config,
    Discover,
    ExtractSettings,
    FeedSettings,
    FetchSettings,
    GovukSettings,
    HealthSettings,
    LimitsSettings,
    ScheduleSettings,
    StorageSettings,
    Target,
)

__all__ = [
    "ARRAYS",
    "CATEGORIES",
    "DEFAULT_TERMS",
    "DEFAULT_USER_AGENT",
    "SECTIONS",
    "AlertsSettings",
    "Config",
    "Discover",
    "ExtractSettings",
    "FeedFilter",
    "FeedSettings",
    "FetchSettings",
    "GovukSettings",
    "HealthSettings",
    "LimitsSettings",
    "NotifySettings",
    "ScheduleSettings",
    "StorageSettings",
    "Target",
    "load_config",
    "parse_config",
]
