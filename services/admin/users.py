"""Operators of the web UI: accounts (argon2 password hashes) and signed-in sessions.

Each use case takes keyword-only dependencies (``uow``, ``clock``) like ``handlers``.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from opencpms_admin.clock import Clock
from opencpms_admin.domain import Principal, Role, api_key_digest
from opencpms_admin.tables import UiSession, User
from opencpms_db.unit_of_work import UnitOfWorkFactory

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified when the user does not exist, so that a wrong user name takes as long as a wrong
# password and does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UsernameTakenError(Exception):
    rpc_code = "conflict"

    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} exists already")


class WeakPasswordError(Exception):
    rpc_code = "invalid"

    def __init__(self) -> None:
        super().__init__(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True)
class BrowserSession:
    principal: Principal
    csrf_token: str


async def create_user(
    username: str, password: str, role: Role, *, uow: UnitOfWorkFactory, clock: Clock
) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    user_id = str(uuid.uuid4())
    async with uow() as work:
        try:
            await work.session.execute(
                insert(User).values(
                    user_id=user_id,
                    username=username,
                    password_hash=password_hash,
                    role=role.value,
                    created_at=clock(),
                )
            )
            await work.commit()
        except IntegrityError as exc:
            raise UsernameTakenError(username) from exc
    return user_id


async def sign_in(
    username: str,
    password: str,
    *,
    lifetime: timedelta,
    uow: UnitOfWorkFactory,
    clock: Clock,
) -> SignedIn | None:
    """A new session for the right password of an enabled user; None otherwise."""
    async with uow() as work:
        user = (
            await work.session.execute(select(User).where(User.username == username))
        ).scalar_one_or_none()
        stored = user.password_hash if user is not None else _DUMMY_HASH
        enabled = user is not None and user.disabled_at is None
        user_id, role = (user.user_id, user.role) if user is not None else ("", "")
    if not await asyncio.to_thread(_verify, stored, password) or not enabled:
        return None
    now = clock()
    signed_in = SignedIn(
        token=secrets.token_urlsafe(32),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + lifetime,
        principal=Principal(username, Role(role)),
    )
    async with uow() as work:
        # Expired sessions are cleared here rather than by a job: sign-ins are rare.
        await work.session.execute(delete(UiSession).where(UiSession.expires_at < now))
        await work.session.execute(
            insert(UiSession).values(
                token_digest=api_key_digest(signed_in.token),
                user_id=user_id,
                csrf_token=signed_in.csrf_token,
                created_at=now,
                expires_at=signed_in.expires_at,
            )
        )
        await work.commit()
    return signed_in


async def session_of(token: str, *, uow: UnitOfWorkFactory, clock: Clock) -> BrowserSession | None:
    """The signed-in user behind a session cookie, if the session is live and the user is
    enabled."""
    query = (
        select(User.username, User.role, UiSession.csrf_token)
        .join(User, User.user_id == UiSession.user_id)
        .where(
            UiSession.token_digest == api_key_digest(token),
            UiSession.expires_at > clock(),
            User.disabled_at.is_(None),
        )
    )
    async with uow() as work:
        row = (await work.session.execute(query)).one_or_none()
    if row is None:
        return None
    return BrowserSession(Principal(row.username, Role(row.role)), row.csrf_token)


async def sign_out(token: str, *, uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        await work.session.execute(
            delete(UiSession).where(UiSession.token_digest == api_key_digest(token))
        )
        await work.commit()


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
