"""The stack's own Kafka broker (KRaft, from the jars `make infra-up` fetched), on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stack_processes import REPO, Proc


class KafkaNode:
    """A private single-node KRaft broker, rendered, formatted and run by deploy/local/kafka.sh
    like the one of `make infra-up`, with a lighter JVM; the process is the drills' to kill."""

    SCRIPT = REPO / "deploy/local/kafka.sh"
    JVM_OPTS = "-Xms128m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"

    def __init__(self, folder: Path, port: int, controller_port: int, proxied: tuple[int, int] | None = None) -> None:
        """`proxied` = (listen port, advertised port): a second listener that clients reach through
        a fault proxy listening on the advertised port (a drill cuts the link to the broker)."""
        self.folder, self.port, self.controller_port = folder, port, controller_port
        self.bootstrap = f"127.0.0.1:{port}"
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(self.SCRIPT), "render", str(folder), str(port), str(controller_port)], check=True, capture_output=True)
        self.properties = folder / "server.properties"
        if proxied:
            props = self.properties.read_text()
            listen, advertised = proxied
            props = (
                props.replace(f"CONTROLLER://127.0.0.1:{controller_port}\n", f"CONTROLLER://127.0.0.1:{controller_port},PROXIED://127.0.0.1:{listen}\n", 1)
                .replace(
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},PROXIED://127.0.0.1:{advertised}"
                )
                .replace("CONTROLLER:PLAINTEXT", "CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT")
            )
            assert "PROXIED://127.0.0.1:" in props.split("advertised.listeners=")[0], "the template's listeners line changed"
            self.properties.write_text(props)
        self.proc = Proc(
            "kafka",
            ["bash", str(self.SCRIPT), "run", str(folder)],
            env={**os.environ, "CET_KAFKA_JVM_OPTS": self.JVM_OPTS},
            log=folder / "kafka.out",
            probe=self.ready,
            poll_interval=0.3,  # each probe is a client process of its own
        )

    def format(self) -> None:
        subprocess.run(["bash", str(self.SCRIPT), "format", str(self.folder)], check=True, capture_output=True, timeout=120)

    def ready(self) -> bool:
        probe = subprocess.run([sys.executable, str(REPO / "deploy/local/kafka_probe.py"), "127.0.0.1", str(self.port), "1"], capture_output=True)
        return probe.returncode == 0

    def start(self) -> None:
        self.proc.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        self.proc.wait_ready(timeout)

    def stop(self) -> None:
        self.proc.stop()
