"""dfe-monitor: watches what the Department for Education publishes about pupil data on GOV.UK."""

__version__ = "0.2.0"
