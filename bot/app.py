"""The composition root: every object of the bot is built here, once, and passed in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.events import Delivery, EventBus, LocalEventBus
from bot.events_redis import RedisEventBus
from bot.handoff.agents import AgentDirectory
from bot.handoff.desk import AgentDesk
from bot.handoff.flow import HandoffFlow
from bot.i18n import Localizer
from bot.langid import LanguageDetector
from bot.nlu import NluBackend
from bot.nlu.embedded import EmbeddedNlu
from bot.orders import OrderService
from bot.orders.flow import OrderFlow
from bot.orders.sql import SqlOrderService
from bot.pipeline import Pipeline
from bot.storage.db import create_engine
from bot.storage.store import Store
from bot.web.limits import Counter, LocalCounter, RateLimits, RedisCounter

if TYPE_CHECKING:  # redis is imported only when REDIS_URL is set (it costs memory)
    import redis.asyncio as redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Components:
    """The built bot: what channels and commands need."""

    settings: Settings
    engine: AsyncEngine
    store: Store
    localizer: Localizer
    detector: LanguageDetector
    nlu: NluBackend
    pipeline: Pipeline
    events: EventBus
    delivery: Delivery
    limits: RateLimits
    agents: AgentDirectory
    desk: AgentDesk
    orders: OrderService
    read_engine: AsyncEngine | None = None
    redis_client: redis.Redis | None = None

    async def close(self) -> None:
        """Release the database connections and the NLU's and order API's HTTP clients."""
        for client in (self.nlu, self.orders):  # Rasa's and the order API's hold one
            aclose = getattr(client, "aclose", None)
            if aclose is not None:
                await aclose()
        if self.redis_client is not None:
            await self.redis_client.aclose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        await self.engine.dispose()


def build_nlu(settings: Settings) -> tuple[NluBackend, EmbeddedNlu]:
    """Return the configured NLU backend and the embedded one it falls back to."""
    embedded = EmbeddedNlu.load_or_train(
        settings.nlu_model_path, settings.nlu_data_dir, settings.nlu_threshold
    )
    if settings.nlu_backend == "rasa":  # httpx is imported only for the backends using it
        import httpx

        from bot.nlu.rasa import RasaNlu

        client = httpx.AsyncClient(base_url=settings.rasa_url, timeout=settings.rasa_timeout)
        log.info("NLU: Rasa server at %s (embedded NLU as fallback)", settings.rasa_url)
        return RasaNlu(client, settings.nlu_threshold), embedded
    return embedded, embedded


def build_orders(
    settings: Settings, reader: AsyncEngine | None = None
) -> tuple[OrderService, AsyncEngine | None]:
    """Return the configured order service, and the engine it reads with if it made one.

    ``reader`` is the app's read engine (on SQLite one that begins deferred, so a lookup
    inside a turn never waits for the turn's write lock); without it one is created.
    """
    if settings.order_backend == "http" and settings.order_api_url:
        import httpx

        from bot.orders.http import HttpOrderService

        headers = {"Accept": "application/json"}
        if settings.order_api_token:
            headers["Authorization"] = f"Bearer {settings.order_api_token}"
        client = httpx.AsyncClient(
            base_url=settings.order_api_url.rstrip("/") + "/",
            headers=headers,
            timeout=settings.order_api_timeout,
        )
        log.info("orders: the shop's order API at %s", settings.order_api_url)
        return HttpOrderService(client, retries=settings.order_api_retries), None
    if reader is not None:
        return SqlOrderService(reader), None
    engine = create_engine(settings.database_url, pool_size=2, reader=True)
    return SqlOrderService(engine), engine


def build(
    settings: Settings,
    *,
    localizer: Localizer | None = None,
    detector: LanguageDetector | None = None,
    nlu: tuple[NluBackend, EmbeddedNlu] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Components:
    """Build every object of the bot from ``settings`` (the database is not migrated here).

    The keyword arguments take parts already built (tests share them between bots), and
    the one clock by which every part reads service hours, deadlines and expiries.
    """
    size, timeout = settings.database_pool_size, settings.database_pool_timeout
    engine = create_engine(settings.database_url, pool_size=size, pool_timeout=timeout)
    # A pool of its own: a turn that reads an order never waits for a second connection
    # from the pool its own connection came from (with every connection held by such
    # turns, that wait would never end).
    read_engine = create_engine(
        settings.database_url, pool_size=size, pool_timeout=timeout, reader=True
    )
    store = Store(engine, read_engine)
    localizer = localizer or Localizer(settings.locales_dir)
    detector = detector or LanguageDetector(settings.nlu_model_path.parent)
    nlu_backend, fallback = nlu or build_nlu(settings)
    orders, _ = build_orders(settings, read_engine)
    # One Redis connection pool for the events across processes and the shared rate limits.
    client: redis.Redis | None = None
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
    events: EventBus = RedisEventBus(client) if client is not None else LocalEventBus()
    handoff = HandoffFlow(
        events,
        localizer,
        offline_after=timedelta(seconds=settings.agent_offline_seconds),
        minutes_per_ticket=settings.handoff_minutes_per_ticket,
        clock=clock,
    )
    pipeline = Pipeline(
        store,
        detector,
        nlu_backend,
        fallback,
        localizer,
        OrderFlow(orders, clock=clock),
        handoff,
        max_length=settings.max_message_length,
        clock=clock,
    )
    counter: Counter = RedisCounter(client) if client is not None else LocalCounter()
    limits = RateLimits(
        counter,
        settings.rate_limit_per_conversation,
        settings.rate_limit_per_address,
        settings.rate_limit_agent_login,
    )
    delivery = Delivery(events)
    agents = AgentDirectory(
        engine, session_lifetime=timedelta(hours=settings.agent_session_hours), clock=clock
    )
    desk = AgentDesk(
        engine,
        delivery,
        localizer,
        offline_after=timedelta(seconds=settings.agent_offline_seconds),
        clock=clock,
    )
    return Components(
        settings,
        engine,
        store,
        localizer,
        detector,
        nlu_backend,
        pipeline,
        events,
        delivery,
        limits,
        agents,
        desk,
        orders,
        read_engine,
        client,
    )
