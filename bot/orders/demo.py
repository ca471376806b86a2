"""``python -m bot demo-data``: a demo catalogue of customers and orders.

Customers in seven countries, orders in their currencies in every status, parcels with
carriers and tracking numbers, and one cancelled order whose refund is overdue. Dates
are relative to today. Running it again adds nothing twice: customers are matched by
their shop id, orders by number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.orders import OrderStatus
from bot.orders.sql import to_minor
from bot.storage import models

S = OrderStatus


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    """A demo customer."""

    ref: str
    name: str
    country: str
    email: str
    phone: str
    language: str
    currency: str


@dataclass(frozen=True, slots=True)
class DemoOrder:
    """A demo order: whose, what, when (days ago), and its parcel if shipped."""

    number: str
    customer: str
    status: OrderStatus
    items: tuple[tuple[str, str, int, str], ...]  # sku, name, quantity, unit price
    placed_days_ago: int
    carrier: str | None = None
    tracking: str | None = None
    shipped_days_ago: int | None = None
    delivered_days_ago: int | None = None
    refund_due_in_days: int | None = None


CUSTOMERS = (
    DemoCustomer(
        "C-1001", "Anna Schmidt", "DE", "anna.schmidt@example.de", "+49 151 23456789", "de", "EUR"
    ),
    DemoCustomer(
        "C-1002", "Li Wei", "CN", "li.wei@example.cn", "+86 138 0013 8000", "zh-Hans", "CNY"
    ),
    DemoCustomer(
        "C-1003", "Chan Tai Man", "HK", "tm.chan@example.hk", "+852 6123 4567", "zh-Hant", "HKD"
    ),
    DemoCustomer(
        "C-1004", "Ivan Petrov", "RU", "ivan.petrov@example.ru", "+7 912 345 67 89", "ru", "RUB"
    ),
    DemoCustomer(
        "C-1005", "Kim Min-jun", "KR", "minjun.kim@example.kr", "+82 10 1234 5678", "ko", "KRW"
    ),
    DemoCustomer(
        "C-1006", "John Miller", "US", "john.miller@example.com", "+1 415 555 0132", "en", "USD"
    ),
    DemoCustomer(
        "C-1007", "Emily Clarke", "GB", "emily.clarke@example.co.uk", "+44 7700 900123", "en", "GBP"
    ),
)

ORDERS = (
    DemoOrder(
        "ORD2025000101",
        "C-1001",
        S.DELIVERED,
        (("XB-HP-220", "Wireless headphones", 1, "129.90"),),
        21,
        "DHL Express",
        "JD014600003828461234",
        18,
        14,
    ),
    DemoOrder(
        "ORD2025000102",
        "C-1001",
        S.IN_TRANSIT,
        (("XB-LMP-07", "Desk lamp", 2, "34.50"),),
        6,
        "DHL Express",
        "JD014600003828469876",
        3,
    ),
    DemoOrder(
        "ORD2025000103",
        "C-1001",
        S.CANCELLED,
        (("XB-CAM-4K", "Action camera 4K", 1, "219.00"),),
        30,
        refund_due_in_days=-9,
    ),
    DemoOrder(
        "ORD2025000201", "C-1002", S.PAID, (("XB-TEA-01", "Oolong tea set", 1, "268.00"),), 1
    ),
    DemoOrder(
        "ORD2025000202",
        "C-1002",
        S.SHIPPED,
        (("XB-PB-20K", "Power bank 20000 mAh", 2, "159.00"),),
        4,
        "SF Express",
        "SF1402938475610",
        1,
    ),
    DemoOrder(
        "ORD2025000301",
        "C-1003",
        S.PROCESSING,
        (("XB-KB-87", "Mechanical keyboard", 1, "699.00"),),
        2,
    ),
    DemoOrder(
        "ORD2025000302",
        "C-1003",
        S.REFUNDED,
        (("XB-WT-S2", "Smart watch", 1, "1299.00"),),
        40,
        refund_due_in_days=-25,
    ),
    DemoOrder(
        "ORD2025000401",
        "C-1004",
        S.CUSTOMS_HOLD,
        (("XB-DRN-M", "Mini drone", 1, "18990.00"),),
        12,
        "Cainiao",
        "LP00512345678901",
        9,
    ),
    DemoOrder(
        "ORD2025000402", "C-1004", S.PENDING_PAYMENT, (("XB-CASE-X", "Phone case", 3, "790.00"),), 0
    ),
    DemoOrder(
        "ORD2025000501",
        "C-1005",
        S.REFUND_PENDING,
        (("XB-AIR-P", "Air purifier", 1, "189000"),),
        15,
        refund_due_in_days=5,
    ),
    DemoOrder(
        "ORD2025000502",
        "C-1005",
        S.DELIVERED,
        (("XB-MUG-02", "Thermal mug", 2, "18500"),),
        25,
        "CJ Logistics",
        "CJ6801234567",
        22,
        19,
    ),
    DemoOrder(
        "ORD2025000601",
        "C-1006",
        S.SHIPPED,
        (("XB-BAG-30", "Travel backpack", 1, "79.99"),),
        3,
        "UPS",
        "1Z999AA10123456784",
        1,
    ),
    DemoOrder(
        "ORD2025000602",
        "C-1006",
        S.CANCELLED,
        (("XB-CHR-65", "65 W charger", 1, "39.00"),),
        8,
        refund_due_in_days=6,
    ),
    DemoOrder(
        "ORD2025000701",
        "C-1007",
        S.IN_TRANSIT,
        (("XB-SPK-M", "Bluetooth speaker", 1, "59.00"),),
        7,
        "Royal Mail",
        "RM123456785GB",
        4,
    ),
)


async def load_demo(engine: AsyncEngine, now: datetime | None = None) -> list[str]:
    """Add the demo customers and orders that are missing; return a report line for each."""
    now = now or datetime.now(UTC)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    report = []
    async with sessions.begin() as session:
        ids = {}
        for customer in CUSTOMERS:
            ids[customer.ref], new = await _customer(session, customer)
            state = "added" if new else "exists"
            report.append(
                f"customer {customer.ref}  {customer.name} ({customer.country}), "
                f"{customer.email}, {customer.phone}  [{state}]"
            )
        by_ref = {c.ref: c for c in CUSTOMERS}
        for order in ORDERS:
            new = await _order(session, order, ids[order.customer], by_ref[order.customer], now)
            state = "added" if new else "exists"
            parcel = f", {order.carrier} {order.tracking}" if order.carrier else ""
            report.append(
                f"order {order.number}  {order.customer}  {order.status.value}{parcel}  [{state}]"
            )
    return report


async def _customer(session: AsyncSession, demo: DemoCustomer) -> tuple[int, bool]:
    found = await session.scalar(
        select(models.Customer.id).where(models.Customer.external_id == demo.ref)
    )
    if found is not None:
        return found, False
    row = models.Customer(
        external_id=demo.ref,
        name=demo.name,
        email=demo.email,
        phone=demo.phone,
        language=demo.language,
    )
    session.add(row)
    await session.flush()
    return row.id, True


async def _order(
    session: AsyncSession, demo: DemoOrder, customer_id: int, customer: DemoCustomer, now: datetime
) -> bool:
    exists = await session.scalar(select(models.Order.id).where(models.Order.number == demo.number))
    if exists is not None:
        return False
    currency = customer.currency
    total = sum((Decimal(price) * qty for _, _, qty, price in demo.items), Decimal(0))
    placed = now - timedelta(days=demo.placed_days_ago, hours=3)
    due = now + timedelta(days=demo.refund_due_in_days) if demo.refund_due_in_days else None
    row = models.Order(
        number=demo.number,
        customer_id=customer_id,
        status=demo.status.value,
        currency=currency,
        total_minor=to_minor(total, currency),
        email=customer.email,
        phone=customer.phone,
        placed_at=placed,
        updated_at=now,
        refund_due_at=due,
    )
    session.add(row)
    await session.flush()
    for sku, name, quantity, price in demo.items:
        session.add(
            models.OrderItem(
                order_id=row.id,
                sku=sku,
                name=name,
                quantity=quantity,
                unit_price_minor=to_minor(Decimal(price), currency),
            )
        )
    if demo.carrier and demo.tracking and demo.shipped_days_ago is not None:
        delivered = (
            now - timedelta(days=demo.delivered_days_ago)
            if demo.delivered_days_ago is not None
            else None
        )
        session.add(
            models.Shipment(
                order_id=row.id,
                carrier=demo.carrier,
                tracking_number=demo.tracking,
                shipped_at=now - timedelta(days=demo.shipped_days_ago),
                delivered_at=delivered,
            )
        )
    return True
