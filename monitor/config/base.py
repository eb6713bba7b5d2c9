"""The base of every settings model: what all tables of config.toml share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Table(BaseModel):
    """Strict: TOML already has types, so "5" is not a number and 3.0 is not a count. Defaults are
    validated like values from the file, so a default can never be one the file could not hold."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        str_strip_whitespace=True,
        allow_inf_nan=False,
        validate_default=True,
    )
