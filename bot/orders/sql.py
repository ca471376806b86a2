"""The order service on the bot's own database.

Tables ``orders``, ``order_items`` and ``shipments``, linked to ``customers``, filled by
``python -m bot demo-data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import OrderServiceUnavailable
from bot.orders import Order, OrderItem, OrderStatus, Shipment, aware
from bot.storage import db, models


def from_minor(amount: int, currency: str) -> Decimal:
    """Return an amount kept in the currency's minor unit (cents) as a decimal."""
    return Decimal(amount).scaleb(-get_currency_precision(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """Return a decimal amount in the currency's minor unit."""
    return int(amount.scaleb(get_currency_precision(currency)))


_ORDERS = models.Order.__table__
_CUSTOMERS = models.Customer.__table__
_ITEMS = models.OrderItem.__table__
_SHIPMENTS = models.Shipment.__table__
#: An order with its customer's shop id, its items and its shipments, in one query: a row
#: for each item and shipment of the order (both joined, so an order of 3 items in 2
#: parcels is 6 rows; one row with neither). The statements are built once (SQLAlchemy
#: caches their compiled form by statement).
_WHOLE = (
    select(
        _ORDERS,
        _CUSTOMERS.c.external_id.label("customer_ref"),
        *(c.label(f"item_{c.name}") for c in _ITEMS.c if c.name != "order_id"),
        *(c.label(f"shipment_{c.name}") for c in _SHIPMENTS.c if c.name != "order_id"),
    )
    .join_from(_ORDERS, _CUSTOMERS, _ORDERS.c.customer_id == _CUSTOMERS.c.id)
    .outerjoin(_ITEMS, _ITEMS.c.order_id == _ORDERS.c.id)
    .outerjoin(_SHIPMENTS, _SHIPMENTS.c.order_id == _ORDERS.c.id)
)
#: Within an order: items by id, and for each item the shipments by date.
_PARTS = (_ITEMS.c.id, _SHIPMENTS.c.shipped_at, _SHIPMENTS.c.id)
_BY_NUMBER = _WHOLE.where(_ORDERS.c.number == bindparam("number")).order_by(*_PARTS)
_OF_CUSTOMER = _WHOLE.where(_CUSTOMERS.c.external_id == bindparam("ref")).order_by(
    _ORDERS.c.placed_at.desc(), _ORDERS.c.id.desc(), *_PARTS
)


class SqlOrderService:
    """Reads orders from the database behind ``engine``.

    Through SQLAlchemy Core, one query a lookup, whatever it finds: an order with its
    items and shipments joined, or a customer's orders with theirs. Through the ORM a
    lookup cost about 1.5 ms of CPU on the development machine, a third of a whole order
    message, most of it building objects that were copied into :class:`Order`; until
    2026-12-07 the items and the shipments of each order found were two more queries,
    so a customer's ten orders took 21.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, number: str) -> Order | None:
        """Return the order with this number, or ``None``."""
        found = await self._read(_BY_NUMBER, {"number": number})
        return found[0] if found else None

    async def orders_of(self, customer_ref: str) -> list[Order]:
        """Return the orders of the customer with this shop id, newest first."""
        return await self._read(_OF_CUSTOMER, {"ref": customer_ref})

    async def _read(self, query: Select[Any], params: dict[str, str]) -> list[Order]:
        async def rows(connection: AsyncConnection) -> list[Row[Any]]:
            return list((await connection.execute(query, params)).all())

        try:
            return _orders(await db.read(self._engine, rows))
        except DBAPIError as error:
            raise OrderServiceUnavailable(f"order database: {error.__class__.__name__}") from error


def _orders(rows: Sequence[Row[Any]]) -> list[Order]:
    """The orders of joined rows (:data:`_WHOLE`), in the order they first come."""
    found: dict[int, tuple[Row[Any], dict[int, OrderItem], dict[int, Shipment]]] = {}
    for row in rows:
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, {}, {})
        _, items, shipments = entry
        if row.item_id is not None and row.item_id not in items:
            price = from_minor(row.item_unit_price_minor, row.currency)
            items[row.item_id] = OrderItem(row.item_sku, row.item_name, row.item_quantity, price)
        if row.shipment_id is not None and row.shipment_id not in shipments:
            shipments[row.shipment_id] = Shipment(
                row.shipment_carrier,
                row.shipment_tracking_number,
                aware(row.shipment_shipped_at),
                aware(row.shipment_delivered_at) if row.shipment_delivered_at else None,
            )
    return [
        order(row, items.values(), shipments.values()) for row, items, shipments in found.values()
    ]


def order(row: Row[Any], items: Iterable[OrderItem], shipments: Iterable[Shipment]) -> Order:
    """The order of an ``orders`` row (with its ``customer_ref``), its items and parcels."""
    return Order(
        number=row.number,
        status=OrderStatus(row.status),
        customer_ref=row.customer_ref,
        email=row.email,
        phone=row.phone,
        currency=row.currency,
        total=from_minor(row.total_minor, row.currency),
        placed_at=aware(row.placed_at),
        updated_at=aware(row.updated_at),
        refund_due_at=aware(row.refund_due_at) if row.refund_due_at else None,
        items=tuple(items),
        shipments=tuple(shipments),
    )
