"""taskmarket: an event-sourced engine for paid-task marketplaces."""

__version__ = "0.1.0"
