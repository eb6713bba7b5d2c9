"""A channel that could not take a message, worded for the person reading `dfe-monitor status`."""

from __future__ import annotations


class ChannelError(Exception):
    """One line: what failed, where, and (when it is a setting) which one to fix."""
