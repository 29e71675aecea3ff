"""Issue: the operators' web UI in a real browser (Debian's chromium, headless, driven by
Playwright) against the whole running system, with real ``ocpp`` charge points. Screenshots
of every page are kept in test-artifacts/browser/."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS as E2E_ARTIFACTS
from tests.e2e.conftest import eventually
from tests.e2e.remote_stations import RemoteStation16
from tests.e2e.stations import charge_point, create_token, new_password, register_station

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("OPENCPMS_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()
SHOTS = E2E_ARTIFACTS.parent / "browser"
PASSWORDS = {"operator": "operator-password-1", "viewer": "viewer-password-12"}


@pytest.fixture(scope="module")
def ui_users(running_system) -> dict[str, str]:
    """An operator and a viewer, made with the admin service's own command line."""
    env = {
        **os.environ,
        "OPENCPMS_ADMIN_DATABASE_URL": running_system.system.database_url("admin"),
    }
    names = {}
    for role, password in PASSWORDS.items():
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "opencpms_admin",
                "create-user",
                "--username",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            input=password + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        names[role] = name
    return names


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    if not HAVE_CHROMIUM:
        pytest.fail(f"no chromium at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        await launched.close()


async def signed_in(browser, running_system, username: str, password: str, **context_options):
    context = await browser.new_context(base_url=running_system.admin_url, **context_options)
    page = await context.new_page()
    await page.goto("/ui/")
    assert "/ui/login" in page.url  # not signed in yet: sent to sign in
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/$"))
    return context, page


async def figure(page, element_id: str) -> int:
    return int((await page.text_content(f"#{element_id}")).strip())


async def test_unauthenticated_requests_are_refused(running_system):
    async with httpx.AsyncClient(base_url=running_system.admin_url) as anonymous:
        for path in (
            "/ui/",
            "/ui/stations",
            "/ui/transactions",
            "/ui/id-tokens",
            "/ui/live",
            "/ui/dashboard.json",
            "/ui/transactions.csv",
        ):
            response = await anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/ui/login")
        assert (await anonymous.get("/api/v1/stations")).status_code == 401
        forged = await anonymous.post("/ui/id-tokens", data={"value": "X", "csrf_token": "x"})
        assert forged.status_code in (303, 401, 403)


async def test_operator_watches_and_drives_a_station(running_system, admin, browser, ui_users):
    station_id, password = f"UI-{uuid.uuid4().hex[:8]}", new_password()
    tag = f"UI{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)

    context, dashboard = await signed_in(
        browser, running_system, ui_users["operator"], PASSWORDS["operator"]
    )
    await dashboard.wait_for_selector("#live-state.on")
    await dashboard.screenshot(path=SHOTS / "dashboard-before.png", full_page=True)
    online_before = await figure(dashboard, "stations-online")
    running_before = await figure(dashboard, "running")

    async with charge_point(
        running_system.gateway_url, station_id, password, station_class=RemoteStation16
    ) as station:
        from ocpp.v16 import call

        await station.call(
            call.BootNotification(charge_point_vendor="ACME", charge_point_model="UI-1")
        )
        await station.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        # The dashboard counts the station online without being reloaded.
        await dashboard.wait_for_function(
            f"Number(document.getElementById('stations-online').textContent) > {online_before}",
            timeout=20000,
        )

        page = await context.new_page()
        await page.goto(f"/ui/stations/{station_id}")
        await page.wait_for_selector("#connection.ok")
        await page.screenshot(path=SHOTS / "station.png", full_page=True)
        await page.fill("form[data-command=remote_start] input[name=id_token]", tag)
        await page.click("form[data-command=remote_start] button")
        await page.wait_for_function(
            "document.getElementById('command-answer').dataset.status === 'Accepted'"
        )
        await asyncio.wait_for(station.started.wait(), 10)
        # The dashboard shows the running transaction, live.
        await dashboard.wait_for_function(
            f"Number(document.getElementById('running').textContent) > {running_before}",
            timeout=20000,
        )
        await dashboard.screenshot(path=SHOTS / "dashboard-charging.png", full_page=True)
        # The station page's transaction list refreshes itself and offers to stop it.
        await page.wait_for_selector("button[data-stop]", timeout=20000)
        await page.screenshot(path=SHOTS / "station-charging.png", full_page=True)
        await page.click("button[data-stop]")
        await asyncio.wait_for(station.stopped.wait(), 10)

    async def priced():
        listed = (await admin.get("/cdrs", params={"station_id": station_id})).json()
        return listed["items"][0] if listed["total"] else None

    cdr = await eventually(priced)
    page = await context.new_page()
    await page.goto(f"/ui/transactions/{cdr['transaction_id']}")
    await page.wait_for_selector("#chart[data-ready=true]")
    assert cdr["total_incl_tax"] in await page.text_content("#price")
    await page.screenshot(path=SHOTS / "transaction.png", full_page=True)

    await page.goto(f"/ui/transactions?station_id={station_id}")
    assert str(cdr["transaction_id"]) in await page.text_content("main table")
    await page.screenshot(path=SHOTS / "transactions.png", full_page=True)
    csv = await page.request.get(f"/ui/transactions.csv?station_id={station_id}")
    assert csv.ok
    assert f"{cdr['transaction_id']},{station_id}," in await csv.text()

    await page.goto(f"/ui/id-tokens?q={tag}")
    await page.click(f"tr[data-token='{tag}'] button")
    await page.wait_for_selector(f"tr[data-token='{tag}'] .badge.bad")
    await page.screenshot(path=SHOTS / "id-tokens.png", full_page=True)
    token = (await admin.get(f"/id-tokens/{tag}")).json()
    assert token["status"] == "Blocked"

    await page.goto("/ui/billing")
    await page.screenshot(path=SHOTS / "billing.png", full_page=True)
    await page.goto("/ui/stations")
    await page.screenshot(path=SHOTS / "stations.png", full_page=True)
    await context.close()


async def test_a_viewer_sees_but_cannot_command(running_system, admin, browser, ui_users):
    station_id = f"UIV-{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, new_password())
    context, page = await signed_in(
        browser, running_system, ui_users["viewer"], PASSWORDS["viewer"]
    )
    await page.goto(f"/ui/stations/{station_id}")
    assert await page.query_selector("#commands") is None
    csrf = await page.get_attribute('meta[name="csrf-token"]', "content")
    refused = await page.request.post(
        f"/api/v1/stations/{station_id}/commands",
        data={"command": {"kind": "reset", "type": "soft"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status == 403
    await context.close()


async def test_pages_fit_a_phone(running_system, browser, ui_users):
    context, page = await signed_in(
        browser,
        running_system,
        ui_users["operator"],
        PASSWORDS["operator"],
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    for path, name in (
        ("/ui/", "phone-dashboard"),
        ("/ui/stations", "phone-stations"),
        ("/ui/transactions", "phone-transactions"),
    ):
        await page.goto(path)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{path} is wider than the phone by {overflow}px"
        await page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    await context.close()
