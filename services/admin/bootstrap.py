"""Composition root: builds the admin service from its settings.

Tests call :func:`build` with their own settings (a per-run database and vhost) and may inject a
clock; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_admin.api.app import create_app
from opencpms_admin.api.context import AdminContext
from opencpms_admin.clock import Clock, utc_now
from opencpms_admin.consumers import READ_MODEL_QUEUE, register_projections
from opencpms_admin.frame_log import FrameLog
from opencpms_admin.settings import Settings
from opencpms_admin.web.live import LiveFeed
from opencpms_db.engine import create_engine, session_factory
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.broker import Broker

log = logging.getLogger(__name__)
SERVICE = "admin"


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the process's stop event ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class AdminService:
    engine: AsyncEngine
    broker: Broker
    app: FastAPI
    settings: Settings
    live: LiveFeed

    async def run(self, stop: asyncio.Event) -> None:
        """Serves HTTP until ``stop`` is set, then closes the broker and database."""
        settings = self.settings
        config = uvicorn.Config(
            self.app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            ssl_certfile=str(settings.tls_certfile) if settings.tls_certfile else None,
            ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
            lifespan="off",
            # Open live streams (server-sent events) would otherwise hold the shutdown.
            timeout_graceful_shutdown=5,
            proxy_headers=True,
        )
        server = _EmbeddedServer(config)
        serving = asyncio.create_task(server.serve(), name="http")
        scheme = "https" if settings.tls_certfile else "http"
        log.info("admin API on %s://%s:%d/api/v1", scheme, settings.host, settings.port)
        try:
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if serving.done():
                serving.result()  # a failed bind ends the service with its error
                raise RuntimeError("the HTTP server stopped")
            self.live.close()
            server.should_exit = True
            await serving
        finally:
            await self.close()

    async def close(self) -> None:
        # Events already taken are projected and acknowledged before the connection goes,
        # rather than delivered again to the next admin process.
        await self.broker.stop_consuming()
        await self.broker.close()
        await self.engine.dispose()


async def build(
    settings: Settings, *, clock: Clock = utc_now, node_name: str = SERVICE
) -> AdminService:
    engine = create_engine(
        settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
    )
    sessions = session_factory(engine)
    broker = await Broker.open(
        settings.amqp_url.get_secret_value(), name=node_name, source=f"/opencpms/{SERVICE}"
    )

    # The admin service emits no events. The API's queries load ORM rows; the read model's
    # writes, one or more per station message, run on the driver.
    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, None)

    def driver_uow() -> DriverUnitOfWork:
        return DriverUnitOfWork(engine, None)

    consumer = await broker.event_consumer(
        READ_MODEL_QUEUE,
        queue_type=settings.queue_type,
        prefetch=settings.event_prefetch,
        delivery_limit=settings.delivery_limit,
    )
    # Events' writes wait a little for more to share their transaction; an operator's request
    # does not. A gateway sends up to 1,000 frames in one message (station.frames), so a frame
    # batch holds a whole message.
    frame_log = FrameLog(
        driver_uow,
        keep=settings.frame_limit,
        max_batch=1024,
        max_wait_s=settings.event_write_wait_s,
    )
    # A batch that can fill does not wait: at most the prefetch of events are unacknowledged,
    # shared with the message log, so a batch of half of them is as full as one gets.
    event_writes = WriteBatch(
        driver_uow,
        max_batch=max(1, settings.event_prefetch // 2),
        max_wait_s=settings.event_write_wait_s,
    )
    register_projections(consumer, {"writes": event_writes, "frame_log": frame_log})
    await consumer.start()
    live = LiveFeed()
    live_consumer = await broker.event_consumer(
        f"admin.live.{node_name}.{uuid.uuid4().hex[:8]}", ephemeral=True
    )
    live.register(live_consumer)
    await live_consumer.start(bound=False)
    context = AdminContext(
        uow=uow,
        rpc=await broker.rpc_client(),
        commander=await broker.commander(),
        clock=clock,
        rpc_timeout_s=settings.rpc_timeout_s,
        bootstrap_key=settings.api_key.get_secret_value() if settings.api_key else None,
        writes=WriteBatch(driver_uow),
        session_lifetime=timedelta(hours=settings.session_hours),
        secure_cookies=settings.secure_cookies,
    )
    return AdminService(
        engine=engine,
        broker=broker,
        app=create_app(context, live),
        settings=settings,
        live=live,
    )
