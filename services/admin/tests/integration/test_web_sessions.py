"""Web UI accounts and sessions against the real database, through the real app."""

import uuid

import pytest

from opencpms_admin import users
from opencpms_admin.domain import Role

pytestmark = pytest.mark.integration


@pytest.fixture
async def operator(admin_service) -> tuple[str, str]:
    context = admin_service.app.state.context
    name, password = f"op-{uuid.uuid4().hex[:6]}", "a-long-password-1"
    await users.create_user(name, password, Role.OPERATOR, **context.dependencies)
    return name, password


async def sign_in_form(client, name: str, password: str):
    page = await client.get("/ui/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return await client.post(
        "/ui/login", data={"username": name, "password": password, "csrf_token": token}
    )


async def test_sign_in_sets_a_protected_cookie_and_csrf_guards_changes(
    admin_service, client_for, operator
):
    async with client_for(None) as browser:
        browser.base_url = "http://admin.test"
        signed = await sign_in_form(browser, *operator)
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "opencpms_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert (await browser.get("/ui/")).status_code == 200
        without = await browser.post(
            "/api/v1/stations/X-1/commands", json={"command": {"kind": "clear_cache"}}
        )
        assert without.status_code == 403
        page = await browser.get("/ui/")
        csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        with_token = await browser.post(
            "/api/v1/stations/X-1/commands",
            json={"command": {"kind": "clear_cache"}},
            headers={"X-CSRF-Token": csrf},
        )
        assert with_token.status_code == 409  # allowed; the station is just offline
        out = await browser.post("/ui/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
        assert (await browser.get("/ui/")).status_code == 303


async def test_wrong_password_and_forged_form_are_refused(admin_service, client_for, operator):
    name, _ = operator
    async with client_for(None) as browser:
        browser.base_url = "http://admin.test"
        assert (await sign_in_form(browser, name, "not-the-password")).status_code == 401
        forged = await browser.post(
            "/ui/login", data={"username": name, "password": operator[1], "csrf_token": "x"}
        )
        assert forged.status_code == 401
        assert "opencpms_session" not in forged.headers.get("set-cookie", "")


async def test_short_passwords_and_taken_names_are_refused(admin_service, operator):
    context = admin_service.app.state.context
    with pytest.raises(users.WeakPasswordError):
        await users.create_user("short", "tiny", Role.VIEWER, **context.dependencies)
    with pytest.raises(users.UsernameTakenError):
        await users.create_user(
            operator[0], "another-long-one", Role.VIEWER, **context.dependencies
        )
