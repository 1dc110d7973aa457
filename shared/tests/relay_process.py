"""A worker process that only relays the outbox (for the lease tests: it can be SIGSTOPped).

    python relay_process.py DATABASE_URL TOPIC_PREFIX
Prints `leader <unix time>` / `stepped-down <unix time>` lines as its leadership changes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from cet_shared.db import create_engine
from cet_shared.outbox import OutboxRelay, create_producer
from cet_shared.testing import kafka_bootstrap


class Reporter(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "is the leader" in message:
            print(f"leader {time.time():.3f}", flush=True)
        elif "stepped down" in message:
            print(f"stepped-down {time.time():.3f} {message}", flush=True)


async def main(url: str, prefix: str) -> None:
    logging.getLogger("cet_shared.outbox").addHandler(Reporter())
    logging.getLogger("cet_shared.outbox").setLevel(logging.INFO)
    engine = create_engine(url, pool_size=2)
    producer = create_producer(kafka_bootstrap(), "lease-test")
    await producer.start()
    relay = OutboxRelay(engine, producer, batch_size=50, poll_interval=0.05, topic_prefix=prefix)
    print(f"started {time.time():.3f}", flush=True)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
