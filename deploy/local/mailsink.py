"""Local SMTP sink: accepts every message and keeps it as one .eml file in a folder.

    .venv/bin/python deploy/local/mailsink.py --host 127.0.0.1 --port 2525 --maildir .local/mail

Started and stopped by deploy/local/infra.sh. Each message is written to <maildir>/.tmp/ and then
renamed into <maildir>/, so a reader globbing <maildir>/*.eml never sees a half-written file.
File names sort by arrival time. The SMTP envelope is kept in two headers put in front of the
message: X-Envelope-From and X-Envelope-To (Bcc recipients appear only there). Any AUTH is
accepted, without TLS, so a client configured with credentials works too. Nothing is relayed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.tmp = maildir / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now // 1_000_000_000))
        name = f"{stamp}.{now % 1_000_000_000:09d}.{os.getpid()}.{next(self._seq)}.eml"
        head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        temp = self.tmp / name
        with open(temp, "wb") as f:
            f.write(head.encode("utf-8") + content)
        os.replace(temp, self.maildir / name)
        print(f"{name} from={envelope.mail_from} to={','.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


def accept_any_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=True)


# aiosmtpd 1.4 warns on every AUTH about its own deprecated Session.login_data
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()

    controller = Controller(
        MaildirHandler(args.maildir.resolve()),
        hostname=args.host,
        port=args.port,
        enable_SMTPUTF8=True,
        auth_require_tls=False,
        authenticator=accept_any_login,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()  # returns once the port answers
    print(f"mail sink listening on {args.host}:{args.port}, writing {args.maildir}", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
