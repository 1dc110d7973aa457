"""Staff TOTP seeds are encrypted at rest (issue 15, point 1): AES-GCM bound to the account, with
key ids so keys rotate, and no production start without a key."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from passport.domain.seed_seal import SeedKeysInvalid, SeedSeal, SeedUnreadable
from passport.settings import PassportSettings

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ALICE, BOB = "a" * 32, "b" * 32


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_sealed_seed_opens_only_for_its_own_account():
    seal = SeedSeal.parse(f"k1={key()}")
    stored = seal.seal(SEED, passport_id=ALICE)
    assert SEED not in stored and stored.startswith("k1:")
    assert seal.open(stored, passport_id=ALICE) == SEED
    assert seal.seal(SEED, passport_id=ALICE) != stored, "a fresh nonce each time"
    with pytest.raises(SeedUnreadable):
        seal.open(stored, passport_id=BOB)  # copied onto another staff member's row
    with pytest.raises(SeedUnreadable):
        seal.open(stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB"), passport_id=ALICE)


def test_keys_rotate_the_first_seals_every_listed_one_opens():
    old, new = key(), key()
    before = SeedSeal.parse(f"k1={old}")
    stored = before.seal(SEED, passport_id=ALICE)
    after = SeedSeal.parse(f"k2={new},k1={old}")
    assert after.open(stored, passport_id=ALICE) == SEED and not after.is_current(stored)
    assert after.seal(SEED, passport_id=ALICE).startswith("k2:")
    with pytest.raises(SeedUnreadable):
        SeedSeal.parse(f"k2={new}").open(stored, passport_id=ALICE)  # k1 retired too early


@pytest.mark.parametrize("keys", ["k1", "k1=short", f"k1={key()},k1={key()}", "k 1=" + key(), ","])
def test_malformed_keys_are_refused(keys):
    with pytest.raises(SeedKeysInvalid):
        SeedSeal.parse(keys)


def test_production_refuses_to_start_without_a_seed_key():
    common = {"database_url": "postgresql+asyncpg://unused/unused", "jwt_private_key_file": "unused", "captcha_secret": "a-real-captcha-secret-32-chars-long"}
    with pytest.raises(ValidationError, match="PASSPORT_TOTP_SEED_KEYS"):
        PassportSettings(environment="production", **common)
    with pytest.raises(ValidationError, match="32 bytes"):
        PassportSettings(environment="production", totp_seed_keys="k1=c2hvcnQ=", **common)
    assert PassportSettings(environment="production", totp_seed_keys=f"k1={key()}", **common).totp_seed_seal().current == "k1"
    assert PassportSettings(environment="test", **common).totp_seed_seal().current == "dev", "development and test derive a local key"
