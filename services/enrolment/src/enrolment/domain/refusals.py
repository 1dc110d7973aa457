"""A rule's "no", with the stable code clients read and the Chinese title candidates read."""

from __future__ import annotations


class Refusal(Exception):
    """A rule says no. `code` is stable for clients; `title` is what the candidate reads."""

    def __init__(self, code: str, title: str, status: int = 409) -> None:
        super().__init__(code)
        self.code, self.title, self.status = code, title, status
