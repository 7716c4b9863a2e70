"""Passwords and session tokens: scrypt with a per-user salt, tokens stored only as their sha256.

>>> verify_password("s3cret-pw", hash_password("s3cret-pw", n=2**10)), verify_password("x", hash_password("y", n=2**10))
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MiB and tens of ms per hash; each hash records its own
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str, n: int | None = None, r: int | None = None, p: int | None = None) -> str:
    """``scrypt$n$r$p$salt$key`` with a fresh 16-byte salt (base64 fields); cost defaults to ``SCRYPT_*``."""
    n, r, p, salt = n or SCRYPT_N, r or SCRYPT_R, p or SCRYPT_P, os.urandom(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison); False for a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


DUMMY_HASH = hash_password(secrets.token_hex(8))  # verified against for unknown users: same timing


def token_hash(token: str) -> str:
    """What the sessions table keeps instead of the token: a leaked table opens no session."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
