"""The account mails' words (P1, P4, P5, P6). Pure text: the use cases decide who gets which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from passport.domain.links import MailedLinks


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def registration_reminder(to: str) -> Mail:
    """P1: someone tried to register an address that already has an account; its owner is told."""
    return Mail(
        to=to,
        subject="CET报名网 通行证注册提醒",
        body=(
            "您好！\n\n有人使用本邮箱申请注册CET报名网通行证，但本邮箱已经注册过通行证，本次注册未生效。\n"
            "如果是您本人操作，请直接登录；如忘记密码，请在登录页点击“找回密码”。\n如非本人操作，请忽略本邮件。\n"
        ),
    )


def email_verification(to: str, links: MailedLinks, *, valid_for: timedelta) -> Mail:
    hours = int(valid_for.total_seconds() // 3600)
    return Mail(
        to=to,
        subject="CET报名网 邮箱验证",
        body=(
            "您好！\n\n请点击下面的链接验证您的通行证邮箱（两个链接效果相同）：\n"
            f"校园网用户：{links.campus}\n公网用户：{links.public}\n\n"
            f"链接{hours}小时内有效。如非本人操作，请忽略本邮件。\n"
        ),
    )


def password_reset(to: str, links: MailedLinks, *, valid_for: timedelta) -> Mail:
    minutes = int(valid_for.total_seconds() // 60)
    return Mail(
        to=to,
        subject="CET报名网 密码找回",
        body=(
            "您好！\n\n您申请了找回通行证密码。请点击下面任一链接设置新密码（两个链接效果相同，只能使用一次）：\n"
            f"校园网用户：{links.campus}\n公网用户：{links.public}\n\n"
            f"链接{minutes}分钟内有效。如非本人操作，请忽略本邮件，您的密码不会改变。\n"
        ),
    )


def email_change_refused(to: str) -> Mail:
    """P6: the address asked for already belongs to another account; its owner is told, nobody else."""
    return Mail(
        to=to,
        subject="CET报名网 邮箱修改提醒",
        body="您好！\n\n有人申请将另一个通行证的邮箱改为本邮箱。本邮箱已注册通行证，该申请未生效。如非本人操作，请忽略本邮件。\n",
    )
