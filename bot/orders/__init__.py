"""Orders: what the bot may tell a verified owner about an order.

One small interface, :class:`OrderService`, with two implementations: the bot's own
database (:mod:`bot.orders.sql`, filled by ``python -m bot demo-data``) and the shop's
order API (:mod:`bot.orders.http`). The conversation around it (asking for the number,
verifying the owner, rate limits, the audit) is :mod:`bot.orders.flow`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from bot.core import Money


class OrderStatus(enum.StrEnum):
    """Where an order is in its life cycle, as the platform system shows it."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    CUSTOMS_HOLD = "customs_hold"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


#: Statuses in which a refund is still owed to the customer.
REFUND_OWED = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUND_PENDING})


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Shipment:
    """A parcel: who carries it and how to follow it."""

    carrier: str
    tracking_number: str
    shipped_at: datetime
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the bot knows it.

    Attributes:
        customer_ref: The shop's id of the customer (``customers.external_id``).
        email: The email address on the order (verification only, never shown).
        phone: The phone number on the order (verification only, never shown).
        refund_due_at: When the refund of a cancelled order is due at the latest.
    """

    number: str
    status: OrderStatus
    customer_ref: str | None
    email: str | None
    phone: str | None
    currency: str
    total: Decimal
    placed_at: datetime
    updated_at: datetime
    refund_due_at: datetime | None = None
    items: tuple[OrderItem, ...] = ()
    shipments: tuple[Shipment, ...] = ()

    @property
    def amount(self) -> Money:
        """The order's total with its currency."""
        return Money(self.total, self.currency)

    def refund_overdue(self, now: datetime) -> bool:
        """Whether a refund is owed and its due date has passed."""
        return (
            self.status in REFUND_OWED
            and self.refund_due_at is not None
            and aware(self.refund_due_at) < now
        )


class OrderService(Protocol):
    """Anything that finds orders: the bot's database, the shop's API, a fake.

    Both methods raise :class:`bot.errors.OrderServiceUnavailable` when the order system
    cannot answer.
    """

    async def get(self, number: str) -> Order | None:
        """Return the order with this canonical number (``ORD`` + digits), or ``None``."""
        ...

    async def orders_of(self, customer_ref: str) -> list[Order]:
        """Return a customer's orders, newest first."""
        ...


def aware(moment: datetime) -> datetime:
    """Return ``moment`` with a time zone (SQLite hands back naive UTC times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
