"""Masking personal data wherever the full value is not needed."""

from __future__ import annotations


def mask_email(email: str) -> str:
    """liaoxiaoer@example.com → li********@example.com"""
    local, _, domain = email.partition("@")
    if not domain:
        return "*" * len(email)
    shown = local[:2] if len(local) > 3 else local[:1]
    return f"{shown}{'*' * max(3, len(local) - len(shown))}@{domain}"


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 2 characters: 110105********2X."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def mask_name(name: str) -> str:
    """廖晓儿 → 廖**"""
    return name[:1] + "*" * max(1, len(name) - 1) if name else name


FULL_MASK = "*****"
