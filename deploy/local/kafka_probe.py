"""Is a Kafka broker answering on host:port, and does it list itself in the cluster metadata?

Standard library only, so deploy/local/infra.sh can run it before any project venv exists:

    python3 deploy/local/kafka_probe.py 127.0.0.1 9092 [node_id]

Sends ApiVersions v0 (every broker answers it), then Metadata v1 with no topics; a KRaft broker
lists itself there only once it has registered with the controller and been unfenced, which is
when clients can use it. Exit 0 = ready; 1 = not (yet), with the reason on stderr.
"""

from __future__ import annotations

import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18


def _request(sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes) -> bytes:
    client_id = b"cet-infra-probe"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _read_exact(sock, 4))
    response = _read_exact(sock, size)
    (got_id,) = struct.unpack_from(">i", response, 0)
    if got_id != correlation_id:
        raise RuntimeError(f"correlation id {got_id} != {correlation_id}")
    return response[4:]


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def _string(data: bytes, pos: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", data, pos)
    pos += 2
    if length < 0:
        return None, pos
    return data[pos : pos + length].decode(), pos + length


def probe(host: str, port: int, node_id: int) -> str | None:
    """None when ready, else why not."""
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            sock.settimeout(5)
            body = _request(sock, API_VERSIONS, 0, 1, b"")
            error, count = struct.unpack_from(">hi", body, 0)
            if error:
                return f"ApiVersions error code {error}"
            versions = {}
            for i in range(count):
                key, low, high = struct.unpack_from(">hhh", body, 6 + 6 * i)
                versions[key] = (low, high)
            low, high = versions.get(API_METADATA, (99, -1))
            if not low <= 1 <= high:
                return None  # answers, but not Metadata v1: take ApiVersions as enough
            # Metadata v1 request: topics = null (int32 -1) ... all topics; we read brokers only.
            body = _request(sock, API_METADATA, 1, 2, struct.pack(">i", -1))
            (brokers,) = struct.unpack_from(">i", body, 0)
            pos = 4
            for _ in range(brokers):
                (nid,) = struct.unpack_from(">i", body, pos)
                pos += 4
                _host, pos = _string(body, pos)
                (bport,) = struct.unpack_from(">i", body, pos)
                pos += 4
                _rack, pos = _string(body, pos)
                if nid == node_id and bport == port:
                    return None
            return f"broker {node_id} not yet in the metadata ({brokers} broker(s) listed)"
    except (OSError, ConnectionError, RuntimeError, struct.error) as exc:
        return f"{type(exc).__name__}: {exc}"


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    node_id = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    why = probe(host, port, node_id)
    if why is None:
        return 0
    print(f"kafka {host}:{port} not ready: {why}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
