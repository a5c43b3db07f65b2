"""The project's error types.

Every error a user can cause with bad input derives from :class:`CrmgymError`, so the command
line can turn it into a one-paragraph message and exit code 2 instead of a traceback. Messages
name the problem *and* the fix.
"""

from __future__ import annotations


class CrmgymError(Exception):
    """Base class for every error crmgym raises on bad input or bad state."""


class DataError(CrmgymError):
    """A transaction log or panel file is missing, malformed or inconsistent."""


class ConfigError(CrmgymError):
    """A configuration file or argument has an unknown key or a bad value."""


class CheckpointError(CrmgymError):
    """A checkpoint is missing, truncated, from another version or otherwise unusable."""


class EnvArgumentError(CrmgymError, ValueError):
    """An environment was constructed with arguments it cannot honour."""
