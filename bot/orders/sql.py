"""The order service on the bot's own database.

Tables ``orders``, ``order_items`` and ``shipments``, linked to ``customers``, filled by
``python -m bot demo-data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from babel.numbers import get_currency_precision
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.errors import OrderServiceUnavailable
from bot.orders import Order, OrderItem, OrderStatus, Shipment, aware
from bot.storage import models


def from_minor(amount: int, currency: str) -> Decimal:
    """Return an amount kept in the currency's minor unit (cents) as a decimal."""
    return Decimal(amount).scaleb(-get_currency_precision(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """Return a decimal amount in the currency's minor unit."""
    return int(amount.scaleb(get_currency_precision(currency)))


class SqlOrderService:
    """Reads orders from the database behind ``engine``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get(self, number: str) -> Order | None:
        """Return the order with this number, or ``None``."""
        query = select(models.Order, models.Customer.external_id).join(models.Customer)
        found = await self._read(query.where(models.Order.number == number))
        return found[0] if found else None

    async def orders_of(self, customer_ref: str) -> list[Order]:
        """Return the orders of the customer with this shop id, newest first."""
        query = (
            select(models.Order, models.Customer.external_id)
            .join(models.Customer)
            .where(models.Customer.external_id == customer_ref)
            .order_by(models.Order.placed_at.desc(), models.Order.id.desc())
        )
        return await self._read(query)

    async def _read(self, query: object) -> list[Order]:
        try:
            async with self._sessions() as session:
                rows = (await session.execute(query)).all()  # type: ignore[call-overload]
                return [await _order(session, row[0], row[1]) for row in rows]
        except DBAPIError as error:
            raise OrderServiceUnavailable(f"order database: {error.__class__.__name__}") from error


async def _order(session: AsyncSession, row: models.Order, customer_ref: str | None) -> Order:
    items: Sequence[models.OrderItem] = (
        await session.scalars(
            select(models.OrderItem)
            .where(models.OrderItem.order_id == row.id)
            .order_by(models.OrderItem.id)
        )
    ).all()
    shipments: Sequence[models.Shipment] = (
        await session.scalars(
            select(models.Shipment)
            .where(models.Shipment.order_id == row.id)
            .order_by(models.Shipment.shipped_at, models.Shipment.id)
        )
    ).all()
    return Order(
        number=row.number,
        status=OrderStatus(row.status),
        customer_ref=customer_ref,
        email=row.email,
        phone=row.phone,
        currency=row.currency,
        total=from_minor(row.total_minor, row.currency),
        placed_at=aware(row.placed_at),
        updated_at=aware(row.updated_at),
        refund_due_at=aware(row.refund_due_at) if row.refund_due_at else None,
        items=tuple(
            OrderItem(i.sku, i.name, i.quantity, from_minor(i.unit_price_minor, row.currency))
            for i in items
        ),
        shipments=tuple(
            Shipment(
                s.carrier,
                s.tracking_number,
                aware(s.shipped_at),
                aware(s.delivered_at) if s.delivered_at else None,
            )
            for s in shipments
        ),
    )
