"""Chinese messages for pydantic's field errors (issue 13): the portal shows `msg` as it is, so it
is Chinese for every error type; pydantic's English stays in `debug` for whoever investigates.
The rejected input itself is never echoed (it could be personal data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_MESSAGES = {
    "missing": "此项为必填项",
    "extra_forbidden": "不允许提交此项",
    "string_type": "须为文本",
    "string_too_short": "长度不能少于{min_length}个字符",
    "string_too_long": "长度不能超过{max_length}个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "须为文本",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多只能有{max_length}项",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "greater_than": "须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "enum": "取值不在允许的范围内",
    "literal_error": "取值不在允许的范围内",
    "uuid_type": "须为 UUID 格式",
    "uuid_parsing": "须为 UUID 格式",
    "uuid_version": "须为 UUID 格式",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "date_type": "须为日期，例如 2026-03-01",
    "date_parsing": "须为日期，例如 2026-03-01",
    "date_from_datetime_parsing": "须为日期，例如 2026-03-01",
    "date_from_datetime_inexact": "须为日期，例如 2026-03-01",
    "datetime_type": "须为 ISO 8601 时间，例如 2026-03-01T09:00:00+08:00",
    "datetime_parsing": "须为 ISO 8601 时间，例如 2026-03-01T09:00:00+08:00",
    "datetime_from_date_parsing": "须为 ISO 8601 时间，例如 2026-03-01T09:00:00+08:00",
    "timezone_aware": "时间须带时区，例如 +08:00",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "value_error": "格式不正确",
    "assertion_error": "格式不正确",
    "union_tag_invalid": "取值不在允许的范围内",
    "union_tag_not_found": "缺少类型字段",
}
_CJK = ("\u4e00", "\u9fff")


def _has_chinese(text: str) -> bool:
    return any(_CJK[0] <= ch <= _CJK[1] for ch in text)


def chinese_message(error: Mapping[str, Any]) -> str:
    kind, english = str(error.get("type", "")), str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        # Our own validators already speak Chinese ("Value error, 时间须为 ISO 8601 格式…").
        own = english.split(", ", 1)[-1]
        if _has_chinese(own):
            return own
    if kind == "value_error" and "email" in english.lower():
        return "邮箱地址格式不正确"
    template = _MESSAGES.get(kind, "格式不正确")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("{")[0] or "格式不正确"


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "type": error.get("type"), "msg": chinese_message(error), "debug": error.get("msg")}
        for error in errors
    ]
