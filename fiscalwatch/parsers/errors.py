"""Errors a reader raises when a file cannot be turned into a layout."""


class UnreadableFile(Exception):
    """The file cannot be read at all; `code` is stable, `message` is for people (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
