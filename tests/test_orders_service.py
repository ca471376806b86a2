"""The order services: SQL on both databases with the demo catalogue, HTTP against a fake
transport (``httpx.MockTransport``: a real client, a function as the shop's server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Components, build_orders
from bot.config import ConfigError, Settings
from bot.errors import InvalidIdentity, OrderServiceUnavailable
from bot.orders import Order, OrderStatus
from bot.orders.demo import CUSTOMERS, ORDERS, load_demo
from bot.orders.http import HttpOrderService
from bot.orders.identity import contact_matches, sign_identity, verify_identity
from bot.orders.sql import SqlOrderService
from bot.storage import models
from bot.storage.db import downgrade, sync_url, upgrade

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


# -- SQL, with the demo catalogue ---------------------------------------------------------
def test_the_migrations_match_the_models(database_url: str) -> None:
    """The hand-written migrations build exactly the tables the models declare."""
    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
    engine.dispose()
    downgrade(database_url, "0001")
    engine = create_engine(sync_url(database_url))
    assert "orders" not in inspect(engine).get_table_names()
    engine.dispose()


async def test_demo_data_covers_every_status_and_is_idempotent(bot_on: Components) -> None:
    first = await load_demo(bot_on.engine, NOW)
    second = await load_demo(bot_on.engine, NOW)
    assert sum(line.endswith("[added]") for line in first) == len(CUSTOMERS) + len(ORDERS)
    assert all(line.endswith("[exists]") for line in second)
    async with bot_on.engine.connect() as connection:
        orders = await connection.scalar(select(func.count()).select_from(models.Order))
        customers = await connection.scalar(select(func.count()).select_from(models.Customer))
        statuses = set(await connection.scalars(select(models.Order.status)))
        currencies = set(await connection.scalars(select(models.Order.currency)))
    assert (orders, customers) == (len(ORDERS), len(CUSTOMERS))
    assert statuses == {s.value for s in OrderStatus}
    assert len(currencies) >= 5
    assert len({c.country for c in CUSTOMERS}) >= 5


async def test_sql_service_reads_orders_items_and_shipments(bot_on: Components) -> None:
    await load_demo(bot_on.engine, NOW)
    service = bot_on.orders
    assert isinstance(service, SqlOrderService)
    order = await service.get("ORD2025000101")
    assert order is not None
    assert order.status is OrderStatus.DELIVERED and order.customer_ref == "C-1001"
    assert order.total == Decimal("129.90") and order.currency == "EUR"
    assert order.email == "anna.schmidt@example.de"
    [parcel] = order.shipments
    assert parcel.carrier == "DHL Express" and parcel.delivered_at is not None
    assert parcel.shipped_at.tzinfo is not None
    assert [i.sku for i in order.items] == ["XB-HP-220"]
    won = await service.get("ORD2025000501")
    assert won is not None and won.total == Decimal("189000") and won.currency == "KRW"
    assert await service.get("ORD1999000000") is None
    mine = await service.orders_of("C-1001")
    assert [o.number for o in mine] == ["ORD2025000102", "ORD2025000101", "ORD2025000103"]
    assert await service.orders_of("C-nobody") == []
    overdue = await service.get("ORD2025000103")
    assert overdue is not None and overdue.refund_overdue(NOW)
    not_yet = await service.get("ORD2025000602")
    assert not_yet is not None and not not_yet.refund_overdue(NOW)


async def test_sql_service_reads_an_order_with_its_parts_in_one_query(bot_on: Components) -> None:
    """Items and shipments are joined to their order: every part once, in its order."""
    day = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    async with AsyncSession(bot_on.engine) as session, session.begin():
        customer = models.Customer(external_id="C-JOIN")
        session.add(customer)
        await session.flush()

        def order(number: str, placed: int) -> models.Order:
            return models.Order(
                number=number,
                customer_id=customer.id,
                status="shipped",
                currency="EUR",
                total_minor=9990,
                placed_at=day + timedelta(days=placed),
                updated_at=day,
            )

        parts, bare = order("ORD2099000001", 0), order("ORD2099000002", 1)
        session.add_all([parts, bare])
        await session.flush()
        session.add_all(
            models.OrderItem(
                order_id=parts.id, sku=f"SKU-{n}", name=f"Item {n}", quantity=n,
                unit_price_minor=100 * n,
            )
            for n in (1, 2, 3)
        )  # fmt: skip
        # the later parcel is written first: shipments come by date, not by id
        for carrier, shipped in (("DPD", 3), ("DHL", 2)):
            session.add(
                models.Shipment(
                    order_id=parts.id,
                    carrier=carrier,
                    tracking_number=f"T-{carrier}",
                    shipped_at=day + timedelta(days=shipped),
                )
            )
    assert bot_on.read_engine is not None
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))

    event.listen(bot_on.read_engine.sync_engine, "before_cursor_execute", count)
    try:
        found = await bot_on.orders.get("ORD2099000001")
        assert len(queries) == 1
        mine = await bot_on.orders.orders_of("C-JOIN")
        assert len(queries) == 2
    finally:
        event.remove(bot_on.read_engine.sync_engine, "before_cursor_execute", count)
    assert found is not None
    assert [(i.sku, i.quantity, i.unit_price) for i in found.items] == [
        ("SKU-1", 1, Decimal("1.00")),
        ("SKU-2", 2, Decimal("2.00")),
        ("SKU-3", 3, Decimal("3.00")),
    ]
    assert [s.carrier for s in found.shipments] == ["DHL", "DPD"]
    assert found.shipments[0].shipped_at == day + timedelta(days=2)
    assert found.shipments[0].delivered_at is None
    assert [o.number for o in mine] == ["ORD2099000002", "ORD2099000001"]
    assert mine[0].items == () and mine[0].shipments == ()
    assert mine[1] == found


# -- HTTP, against a fake transport --------------------------------------------------------
API_ORDER = {
    "number": "ORD2025009001",
    "status": "in_transit",
    "customer_id": "C-77",
    "email": "kai@example.com",
    "phone": "+49 170 1234567",
    "currency": "EUR",
    "total": "49.90",
    "placed_at": "2026-11-20T10:00:00Z",
    "updated_at": "2026-11-22T10:00:00Z",
    "refund_due_at": None,
    "items": [{"sku": "A-1", "name": "Cable", "quantity": 2, "unit_price": "24.95"}],
    "shipments": [
        {
            "carrier": "DPD",
            "tracking_number": "01234567890123",
            "shipped_at": "2026-11-21T08:00:00Z",
            "delivered_at": None,
        }
    ],
}


def http_service(handler: httpx.MockTransport | None = None, **kwargs: object) -> HttpOrderService:
    client = httpx.AsyncClient(
        base_url="https://shop.example/api/",
        headers={"Authorization": "Bearer tok-123"},
        transport=handler,
        timeout=1.0,
    )
    return HttpOrderService(client, backoff=0.0, **kwargs)  # type: ignore[arg-type]


async def test_http_service_reads_an_order_with_the_token() -> None:
    seen: list[httpx.Request] = []

    def shop(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/orders/ORD2025009001":
            return httpx.Response(200, json=API_ORDER)
        if request.url.path == "/api/customers/C-77/orders":
            older = {**API_ORDER, "number": "ORD2025000001", "placed_at": "2025-01-01T00:00:00Z"}
            return httpx.Response(200, json={"orders": [older, API_ORDER]})
        return httpx.Response(404, json={"error": "not found"})

    service = http_service(httpx.MockTransport(shop))
    order = await service.get("ORD2025009001")
    assert isinstance(order, Order)
    assert order.status is OrderStatus.IN_TRANSIT and order.total == Decimal("49.90")
    assert order.shipments[0].tracking_number == "01234567890123"
    assert order.placed_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert await service.get("ORD2025000404") is None
    assert [o.number for o in await service.orders_of("C-77")] == [
        "ORD2025009001",
        "ORD2025000001",
    ]
    assert all(r.headers["Authorization"] == "Bearer tok-123" for r in seen)
    await service.aclose()


async def test_http_service_retries_transient_failures() -> None:
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json=API_ORDER)])
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return next(answers)

    order = await http_service(httpx.MockTransport(flaky), retries=2).get("ORD2025009001")
    assert order is not None and len(calls) == 3


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("the shop is slow", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


BROKEN = [
    pytest.param(_timeout, 3, id="slow"),
    pytest.param(_refused, 3, id="down"),
    pytest.param(lambda r: httpx.Response(500), 3, id="500"),
    pytest.param(lambda r: httpx.Response(401, json={"error": "token"}), 1, id="wrong-token"),
    pytest.param(lambda r: httpx.Response(200, text="<html>oops</html>"), 1, id="not-json"),
    pytest.param(lambda r: httpx.Response(200, json=[1, 2]), 1, id="not-an-object"),
    pytest.param(
        lambda r: httpx.Response(200, json={**API_ORDER, "status": "teleported"}), 1, id="status"
    ),
    pytest.param(lambda r: httpx.Response(200, json={"number": "x"}), 1, id="fields-missing"),
]


@pytest.mark.parametrize(("answer", "tries"), BROKEN)
async def test_http_service_failures_become_unavailable(answer, tries: int) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def shop(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer(request)  # type: ignore[no-any-return]

    with pytest.raises(OrderServiceUnavailable):
        await http_service(httpx.MockTransport(shop), retries=2).get("ORD2025009001")
    assert len(calls) == tries


def test_settings_choose_the_order_backend(settings: Settings) -> None:
    assert Settings.from_env({}).order_backend == "sql"
    http = Settings.from_env({"ORDER_API_URL": "https://shop.example/api", "ORDER_API_TOKEN": "t"})
    assert http.order_backend == "http" and http.order_api_token == "t"
    assert Settings.from_env({"ORDER_API_TIMEOUT": "1.5"}).order_api_timeout == 1.5
    with pytest.raises(ConfigError):
        Settings.from_env({"ORDER_BACKEND": "http"})
    with pytest.raises(ConfigError):
        Settings.from_env({"ORDER_BACKEND": "carrier-pigeon"})
    with pytest.raises(ConfigError):
        Settings.from_env({"ORDER_API_URL": "shop.example/api"})
    service, engine = build_orders(
        replace(settings, order_backend="http", order_api_url="http://x")
    )
    assert isinstance(service, HttpOrderService) and engine is None


# -- identity and contact checks ------------------------------------------------------------
def test_signed_identity_is_checked() -> None:
    secret, now = "shop-secret", 1_800_000_000
    signature = sign_identity("C-1001", now + 600, secret)
    assert verify_identity("C-1001", now + 600, signature, secret, now) == "C-1001"
    assert verify_identity("C-1001", now + 600, signature.upper(), secret, now) == "C-1001"
    refused = [
        ("C-1002", now + 600, signature, secret),  # another customer
        ("C-1001", now + 601, signature, secret),  # another expiry
        ("C-1001", now + 600, signature, "other-secret"),
        ("C-1001", now + 600, "abc", secret),
        ("C-1001", now - 1, sign_identity("C-1001", now - 1, secret), secret),  # expired
        ("C-1001", now + 600, signature, None),  # no secret configured
    ]
    for customer, expires, given, key in refused:
        with pytest.raises(InvalidIdentity):
            verify_identity(customer, expires, given, key, now)


def test_contact_matches_email_and_phone_digits() -> None:
    order = Order(
        "ORD2025009001",
        OrderStatus.PAID,
        "C-77",
        "Kai.Muster@Example.com",
        "+49 170 1234567",
        "EUR",
        Decimal("1"),
        NOW,
        NOW,
    )
    assert contact_matches(order, " kai.muster@example.COM ", None)
    assert contact_matches(order, None, "4567")
    assert contact_matches(order, None, "０１７０ １２３４５６７")  # full-width, national form
    assert contact_matches(order, None, "+49 170 1234567")
    assert not contact_matches(order, "kai@example.com", None)
    assert not contact_matches(order, None, "4568")
    assert not contact_matches(order, None, "567")  # too few digits
    assert not contact_matches(order, None, "+49 171 1234567")
    assert not contact_matches(None, "kai.muster@example.com", "4567")
    assert not contact_matches(replace(order, email=None, phone=None), "x@example.com", "4567")
