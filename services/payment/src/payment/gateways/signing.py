"""The two signature schemes, shared by the adapters and the sandbox so both sign identically.

- Alipay RSA2: SHA256withRSA (PKCS#1 v1.5), base64, over the parameters except `sign` and
  `sign_type`, empty values dropped, sorted by key, joined as `k=v&k=v` with the values as sent
  (URL-decoded). Implemented on `cryptography` (see the service note for why not an SDK).
- PayEase (首信易支付): HMAC-MD5 (RFC 2104), lowercase hex, over the concatenation of fixed
  fields in a fixed order, with the merchant's shared key; bytes in the gateway's charset (GBK).
  Its notification also carries `v_sign`: PayEase's RSA signature (MD5withRSA, PKCS#1 v1.5, hex)
  over v_oid + v_pstatus + v_amount + v_moneytype, verified with PayEase's public key — the
  shared MAC key is known to the merchant too, the RSA key proves the notice came from PayEase.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def alipay_sign_content(params: Mapping[str, str]) -> str:
    items = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v not in (None, ""))
    return "&".join(f"{k}={v}" for k, v in items)


def rsa2_sign(private_key: rsa.RSAPrivateKey, content: str) -> str:
    return base64.b64encode(private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_key: rsa.RSAPublicKey, content: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, binascii.Error, ValueError):
        return False


def hmac_md5(key: str, text: str, charset: str = "gbk") -> str:
    return hmac.new(key.encode(charset), text.encode(charset), hashlib.md5).hexdigest()


def hmac_md5_equal(key: str, text: str, given: str, charset: str = "gbk") -> bool:
    try:
        expected = hmac_md5(key, text, charset)
    except UnicodeEncodeError:  # text the gateway could not have signed in its charset
        return False
    given = (given or "").strip().lower()
    if not given.isascii():  # not a hex digest, and compare_digest refuses non-ASCII text
        return False
    return hmac.compare_digest(expected, given)


def payease_sign_content(fields: Mapping[str, str]) -> str:
    return "".join(fields.get(name, "") for name in ("v_oid", "v_pstatus", "v_amount", "v_moneytype"))


def payease_rsa_sign(private_key: rsa.RSAPrivateKey, content: str, charset: str = "gbk") -> str:
    return private_key.sign(content.encode(charset), padding.PKCS1v15(), hashes.MD5()).hex()  # noqa: S303 - PayEase's v_sign is RSA over MD5


def payease_rsa_verify(public_key: rsa.RSAPublicKey, content: str, signature: str, charset: str = "gbk") -> bool:
    """False for anything but the exact signature: not hex, truncated, another key, or other text."""
    text = (signature or "").strip()
    if not text.isascii() or len(text) != public_key.key_size // 4:
        return False
    try:
        public_key.verify(bytes.fromhex(text), content.encode(charset), padding.PKCS1v15(), hashes.MD5())  # noqa: S303 - PayEase's v_sign is RSA over MD5
        return True
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        return False


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def public_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(path: str | Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def load_public_key(path: str | Path) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key
