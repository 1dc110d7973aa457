"""The run's mail sink (deploy/local/mailsink.py) as tests read it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from pathlib import Path


class Mailbox:
    """The run's mail sink folder: one .eml per message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[email.message.EmailMessage]:
        out = []
        for path in sorted(self.folder.glob("*.eml")):
            out.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return out

    def find(self, to: str, subject: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages() if to.lower() in str(m["To"]).lower() and subject in str(m["Subject"])]

    async def wait(self, to: str, subject: str, *, count: int = 1, timeout: float = 30.0) -> list[email.message.EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.find(to, subject)
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no mail '{subject}' to {to} after {timeout}s (have: {[str(m['Subject']) for m in self.messages()][-10:]})")
            await asyncio.sleep(0.2)

    @staticmethod
    def body(message: email.message.EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def link_token(message: email.message.EmailMessage) -> str:
        match = re.search(r"[?&]token=([A-Za-z0-9_\-]+)", Mailbox.body(message))
        assert match, "no link with a token in the mail"
        return match.group(1)
