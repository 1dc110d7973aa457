"""Runs passport's outbox relay and SIGKILLs itself right after Kafka acknowledged a batch and
before the rows are marked sent: the worst moment for a relay to die.

Usage: python relay_crasher.py DATABASE_URL BOOTSTRAP TOPIC_PREFIX
"""

import asyncio
import os
import signal
import sys

from cet_shared.db import create_engine
from cet_shared.outbox import OutboxRelay, create_producer


class CrashAfterSend(OutboxRelay):
    async def _send(self, rows):
        await super()._send(rows)
        print(f"sent {len(rows)}; dying before marking them", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


async def main(url: str, bootstrap: str, prefix: str) -> None:
    producer = create_producer(bootstrap, "relay-crasher")
    await producer.start()
    await CrashAfterSend(create_engine(url), producer, topic_prefix=prefix).run()


asyncio.run(main(*sys.argv[1:4]))
