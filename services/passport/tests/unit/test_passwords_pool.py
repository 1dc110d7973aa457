"""The hashing pool outlives a closed lifespan: a container closed and used again still hashes
(schemathesis and test clients start an app's lifespan more than once)."""

from argon2 import PasswordHasher

from passport.service.passwords import Passwords


async def test_p1_hashing_after_close_gets_a_new_pool() -> None:
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1), threads=1)
    first = await passwords.hash("Cet-Secret-2026")
    passwords.close()
    assert await passwords.verify(first, "Cet-Secret-2026")
    passwords.close()
    passwords.close()  # closing twice is harmless
