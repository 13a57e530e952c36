"""Errors the engine raises: each names the parameter (input or output) it concerns."""


class EngineError(Exception):
    """Bad input or output, attributed to a Processing parameter id (e.g. ``INPUT``)."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class Cancelled(Exception):
    """The user cancelled the run; outputs were discarded."""
