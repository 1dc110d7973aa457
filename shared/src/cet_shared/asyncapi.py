"""A service's AsyncAPI 3 document (issue 13 point 8), generated from the pydantic event contracts
(`cet_shared.events.contracts`): what it sends (every contract on a topic it produces: topics are
named after their producing service, deploy/topics.toml) and what it receives (every contract its
consumers handle). Served at /asyncapi.json next to /openapi.json.

Every message travels in the `EventEnvelope`; its `payload` member is the contract. The message key
(a registration or passport id) keeps one aggregate's events in order on a partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from cet_shared.events.envelope import Event, EventEnvelope, event_types

ASYNCAPI_VERSION = "3.0.0"
_REF = "#/components/schemas/{model}"


def produced_by(service: str) -> list[type[Event]]:
    """The contracts on the topics `service` produces (`<service>.<aggregate>.v<n>`)."""
    return sorted((cls for cls in event_types().values() if cls.topic.split(".", 1)[0] == service), key=lambda cls: cls.event_type)


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Registers `model` (and the models it uses) in `schemas`; returns its reference."""
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _message(cls: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    contract = _schema(cls, schemas)
    envelope = EventEnvelope.model_json_schema(ref_template=_REF)
    envelope["title"] = f"{cls.event_type}Envelope"
    envelope["properties"] |= {
        "event_type": {"type": "string", "const": cls.event_type},
        "version": {"type": "integer", "const": cls.version},
        "payload": contract,
    }
    schemas[f"{cls.event_type}Envelope"] = envelope
    return {
        "name": cls.event_type,
        "title": cls.event_type,
        "summary": (cls.__doc__ or cls.event_type).strip().splitlines()[0],
        "contentType": "application/json",
        "payload": {"$ref": _REF.format(model=f"{cls.event_type}Envelope")},
        "bindings": {"kafka": {"key": {"type": "string", "description": "报名ID或通行证ID：同一对象的事件按顺序到达"}, "bindingVersion": "0.5.0"}},
    }


def _operation(action: str, cls: type[Event]) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{cls.topic}"},
        "messages": [{"$ref": f"#/channels/{cls.topic}/messages/{cls.event_type}"}],
        "summary": ("发布 " if action == "send" else "接收并处理 ") + cls.event_type,
    }


def asyncapi_document(service: str, *, title: str, consumed: Iterable[type[Event]], version: str = "1") -> dict[str, Any]:
    sent, received = produced_by(service), sorted(set(consumed), key=lambda cls: cls.event_type)
    schemas: dict[str, Any] = {}
    messages = {cls.event_type: _message(cls, schemas) for cls in [*sent, *received]}
    channels: dict[str, Any] = {}
    for cls in [*sent, *received]:
        channel = channels.setdefault(
            cls.topic,
            {
                "address": cls.topic,
                "description": "Kafka 主题（部署可加前缀 KAFKA_TOPIC_PREFIX）；死信见 dlq.<消费组>",
                "messages": {},
            },
        )
        channel["messages"][cls.event_type] = {"$ref": f"#/components/messages/{cls.event_type}"}
    operations = {f"send{cls.event_type}": _operation("send", cls) for cls in sent}
    operations |= {f"receive{cls.event_type}": _operation("receive", cls) for cls in received}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": f"{title} 事件",
            "version": version,
            "description": "本服务发布与接收的事件（契约版本 1：同一版本内只增加字段，不修改、不删除）。",
        },
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "kafka:9092", "protocol": "kafka", "description": "KAFKA_BOOTSTRAP_SERVERS"}},
        "channels": dict(sorted(channels.items())),
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def consumed_by(consumers: Sequence[Any]) -> set[type[Event]]:
    return {cls for consumer in consumers for cls in consumer.handled_events}
