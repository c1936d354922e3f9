"""Password hashing with argon2id (argon2-cffi's defaults follow the RFC 9106 recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash verified when the username does not exist, so timing does not reveal who has an account.
DUMMY_HASH = hash_password("not-a-real-password")
