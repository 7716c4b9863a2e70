"""Errors that stop a run on purpose with one line (``vkit: error: ...``, exit 2), in a module that imports
nothing heavy, so the command line can name them without loading transformers first."""


class HealthError(RuntimeError):
    """A stage stopped because a health signal fired (:mod:`core_training.monitor`); the message is one line
    naming it."""
