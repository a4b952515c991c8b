"""The error every resolution step raises, naming field, value and fix."""

from __future__ import annotations


class ResolutionError(ValueError):
    """A model id or GPU name that cannot be resolved into facts."""

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field}: {value!r}: {message}")
