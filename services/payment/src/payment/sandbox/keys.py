"""Test keys, exchanged through files in one directory (never committed):

- merchant side (`payment-admin make-test-keys`): app_private_key.pem, app_public_key.pem,
  payease_key — the service holds the app private key, the sandbox reads the app public key;
- gateway side (each sandbox start): alipay_public_key.pem — the sandbox keeps the private half
  in memory, the service verifies Alipay's signatures with the public one;
- PayEase's RSA pair (made once with the merchant keys): payease_gateway_private_key.pem, read by
  the sandbox only, to sign v_sign; payease_public_key.pem, the key the service verifies it with.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from payment.gateways.signing import generate_rsa_key, private_pem, public_pem

APP_PRIVATE = "app_private_key.pem"
APP_PUBLIC = "app_public_key.pem"
ALIPAY_PUBLIC = "alipay_public_key.pem"
PAYEASE_KEY = "payease_key"
PAYEASE_GATEWAY_PRIVATE = "payease_gateway_private_key.pem"
PAYEASE_PUBLIC = "payease_public_key.pem"


def _write(path: Path, data: bytes, *, private: bool) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def ensure_merchant_keys(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / APP_PRIVATE).exists():
        key = generate_rsa_key()
        _write(directory / APP_PRIVATE, private_pem(key), private=True)
        _write(directory / APP_PUBLIC, public_pem(key.public_key()), private=False)
    if not (directory / PAYEASE_KEY).exists():
        _write(directory / PAYEASE_KEY, secrets.token_urlsafe(24).encode(), private=True)
    if not (directory / PAYEASE_GATEWAY_PRIVATE).exists() or not (directory / PAYEASE_PUBLIC).exists():
        key = generate_rsa_key()
        _write(directory / PAYEASE_GATEWAY_PRIVATE, private_pem(key), private=True)
        _write(directory / PAYEASE_PUBLIC, public_pem(key.public_key()), private=False)
    return [directory / APP_PRIVATE, directory / APP_PUBLIC, directory / PAYEASE_KEY, directory / PAYEASE_PUBLIC]


def new_alipay_key(directory: Path) -> rsa.RSAPrivateKey:
    """The sandbox's "Alipay" key for this run; only its public half leaves the process."""
    key = generate_rsa_key()
    _write(directory / ALIPAY_PUBLIC, public_pem(key.public_key()), private=False)
    return key
