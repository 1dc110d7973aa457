"""The refusals passport's use cases answer with: stable codes, Chinese titles (RFC 9457)."""

from __future__ import annotations

from cet_shared.problems import Problem


def invalid_credentials() -> Problem:
    return Problem(401, "invalid_credentials", "账号或密码错误")


def weak_password(reason: str) -> Problem:
    return Problem(422, "weak_password", "密码强度不够", detail=reason)


def passwords_differ() -> Problem:
    return Problem(422, "password_mismatch", "两次输入的密码不一致")


def link_invalid() -> Problem:
    return Problem(400, "link_invalid", "链接无效或已过期，请重新申请")


def reset_email_mismatch() -> Problem:
    return Problem(400, "reset_email_mismatch", "邮箱与找回密码的账号不一致")


def email_taken(title: str = "该邮箱已被其他账号使用") -> Problem:
    return Problem(409, "email_taken", title)


def email_already_verified() -> Problem:
    return Problem(409, "email_already_verified", "邮箱已验证")


def old_password_wrong() -> Problem:
    return Problem(400, "old_password_wrong", "原密码错误")


def school_code_required() -> Problem:
    return Problem(422, "school_code_required", "教师账号须指定5位学校代码")


def second_factor_required() -> Problem:
    return Problem(403, "second_factor_required", "管理人员请从管理平台登录（需动态验证码）")
