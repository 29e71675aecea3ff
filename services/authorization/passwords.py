"""Station passwords, stored as argon2id hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class StationPasswords:
    """Hashes and checks station passwords.

    A station reconnects many times with the same password, and after an outage thousands do
    at once; argon2 for each would cap a reconnect storm at a few hundred stations a second.
    So a password that verified against a stored hash is remembered, as an HMAC under a key
    that lives only in this process, and the next check of the same password against the same
    hash compares HMACs. A changed password has a new hash and is checked with argon2 again.
    """

    def __init__(self, *, time_cost: int, memory_kib: int, remembered: int = 200_000) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[str, bytes] = OrderedDict()
        self._remembered = remembered

    def verified_before(self, stored_hash: str, password: str) -> bool:
        known = self._verified.get(stored_hash)
        if known is None:
            return False
        self._verified.move_to_end(stored_hash)
        return hmac.compare_digest(known, self._mac(password))

    def remember(self, stored_hash: str, password: str) -> None:
        self._verified[stored_hash] = self._mac(password)
        self._verified.move_to_end(stored_hash)
        while len(self._verified) > self._remembered:
            self._verified.popitem(last=False)

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)
