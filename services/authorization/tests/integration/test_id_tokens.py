import uuid
from datetime import UTC, datetime, timedelta

import pytest

from opencpms_contracts import authorization as auth
from opencpms_contracts.common import AuthorizationStatus, IdToken
from opencpms_messaging.rpc_errors import ConflictError, NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("authorization_service")]


def new_token() -> str:
    return uuid.uuid4().hex[:16].upper()


async def authorize(rpc, value: str):
    request = auth.AuthorizeIdToken(station_id="CP1", id_token=IdToken(value=value))
    return await rpc.call(auth.AUTHORIZE, request, timeout=10)


async def test_accepted_blocked_expired_and_unknown_tokens(rpc):
    accepted, blocked, expired = new_token(), new_token(), new_token()
    await rpc.call(
        auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=accepted, group_id="FLEET"), timeout=10
    )
    await rpc.call(
        auth.CREATE_ID_TOKEN,
        auth.CreateIdToken(value=blocked, status=AuthorizationStatus.BLOCKED),
        timeout=10,
    )
    await rpc.call(
        auth.CREATE_ID_TOKEN,
        auth.CreateIdToken(value=expired, expires_at=datetime.now(UTC) - timedelta(minutes=1)),
        timeout=10,
    )

    assert (await authorize(rpc, accepted)).status is AuthorizationStatus.ACCEPTED
    assert (await authorize(rpc, accepted)).group_id == "FLEET"
    assert (await authorize(rpc, blocked)).status is AuthorizationStatus.BLOCKED
    assert (await authorize(rpc, expired)).status is AuthorizationStatus.EXPIRED
    assert (await authorize(rpc, new_token())).status is AuthorizationStatus.UNKNOWN


async def test_blocking_and_unblocking_a_token(rpc):
    value = new_token()
    await rpc.call(auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=value), timeout=10)
    await rpc.call(
        auth.UPDATE_ID_TOKEN,
        auth.UpdateIdToken(value=value, status=AuthorizationStatus.BLOCKED),
        timeout=10,
    )
    assert (await authorize(rpc, value)).status is AuthorizationStatus.BLOCKED
    await rpc.call(
        auth.UPDATE_ID_TOKEN,
        auth.UpdateIdToken(value=value, status=AuthorizationStatus.ACCEPTED),
        timeout=10,
    )
    assert (await authorize(rpc, value)).status is AuthorizationStatus.ACCEPTED


async def test_clearing_an_expiry(rpc):
    value = new_token()
    past = datetime.now(UTC) - timedelta(days=1)
    await rpc.call(
        auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=value, expires_at=past), timeout=10
    )
    record = await rpc.call(
        auth.UPDATE_ID_TOKEN, auth.UpdateIdToken(value=value, clear_expiry=True), timeout=10
    )
    assert record.expires_at is None
    assert (await authorize(rpc, value)).status is AuthorizationStatus.ACCEPTED


async def test_duplicate_and_missing_tokens(rpc):
    value = new_token()
    await rpc.call(auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=value), timeout=10)
    with pytest.raises(ConflictError):
        await rpc.call(auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=value), timeout=10)
    with pytest.raises(NotFoundError):
        await rpc.call(auth.GET_ID_TOKEN, auth.IdTokenRef(value=new_token()), timeout=10)


async def test_list_tokens_by_status(rpc):
    prefix = f"L{uuid.uuid4().hex[:6].upper()}"
    await rpc.call(auth.CREATE_ID_TOKEN, auth.CreateIdToken(value=f"{prefix}A"), timeout=10)
    await rpc.call(
        auth.CREATE_ID_TOKEN,
        auth.CreateIdToken(value=f"{prefix}B", status=AuthorizationStatus.BLOCKED),
        timeout=10,
    )
    page = await rpc.call(
        auth.LIST_ID_TOKENS,
        auth.ListIdTokens(value_prefix=prefix, status=AuthorizationStatus.BLOCKED),
        timeout=10,
    )
    assert [t.value for t in page.items] == [f"{prefix}B"]
    assert page.total == 1
