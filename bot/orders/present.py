"""What the customer sees of an order.

Its status with meaning and next step, the carrier and tracking number, dates and
amounts (formatted later, for the customer's locale).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import policy_texts as policy
from bot import texts
from bot.core import Action, Reply
from bot.dialogue import Step
from bot.orders import Order, OrderStatus

LABELS: Mapping[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: texts.STATUS_PENDING_PAYMENT,
    OrderStatus.PAID: texts.STATUS_PAID,
    OrderStatus.PROCESSING: texts.STATUS_PROCESSING,
    OrderStatus.SHIPPED: texts.STATUS_SHIPPED,
    OrderStatus.IN_TRANSIT: texts.STATUS_IN_TRANSIT,
    OrderStatus.CUSTOMS_HOLD: texts.STATUS_CUSTOMS_HOLD,
    OrderStatus.DELIVERED: texts.STATUS_DELIVERED,
    OrderStatus.CANCELLED: texts.STATUS_CANCELLED,
    OrderStatus.REFUND_PENDING: texts.STATUS_REFUND_PENDING,
    OrderStatus.REFUNDED: texts.STATUS_REFUNDED,
}
MEANINGS: Mapping[OrderStatus, str] = {
    OrderStatus.PENDING_PAYMENT: texts.MEANING_PENDING_PAYMENT,
    OrderStatus.PAID: texts.MEANING_PAID,
    OrderStatus.PROCESSING: texts.MEANING_PROCESSING,
    OrderStatus.SHIPPED: texts.MEANING_SHIPPED,
    OrderStatus.IN_TRANSIT: texts.MEANING_IN_TRANSIT,
    OrderStatus.CUSTOMS_HOLD: texts.MEANING_CUSTOMS_HOLD,
    OrderStatus.DELIVERED: texts.MEANING_DELIVERED,
    OrderStatus.CANCELLED: texts.MEANING_CANCELLED,
    OrderStatus.REFUND_PENDING: texts.MEANING_REFUND_PENDING,
    OrderStatus.REFUNDED: texts.MEANING_REFUNDED,
}
#: Statuses after the parcel left the seller: carrier and tracking number are shown.
SHIPPED = frozenset(
    {
        OrderStatus.SHIPPED,
        OrderStatus.IN_TRANSIT,
        OrderStatus.CUSTOMS_HOLD,
        OrderStatus.DELIVERED,
    }
)


def local_day(moment: datetime, zone: str | None) -> date:
    """Return the calendar day of ``moment`` in the customer's zone (UTC when unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone)).date() if zone else moment.date()
    except (KeyError, ValueError):  # an unknown zone name
        return moment.date()


def order_step(order: Order, intent: str, now: datetime, zone: str | None) -> Step:
    """Return the reply showing one order to its verified owner.

    A customs hold adds the refusal guidance (who handles customs); a refund overdue
    offers a person (urgent, policy section 4.1).
    """
    summary = Reply(
        texts.ORDER_SUMMARY,
        {
            "number": order.number,
            "placed": local_day(order.placed_at, zone),
            "total": order.amount,
            "status": Reply(LABELS[order.status]),
        },
    )
    more = [Reply(MEANINGS[order.status])]
    if order.status in SHIPPED:
        for parcel in order.shipments:
            more.append(
                Reply(
                    texts.ORDER_TRACKING,
                    {
                        "shipped": local_day(parcel.shipped_at, zone),
                        "carrier": parcel.carrier,
                        "tracking": parcel.tracking_number,
                    },
                )
            )
            if parcel.delivered_at is not None:
                delivered = local_day(parcel.delivered_at, zone)
                more.append(Reply(texts.ORDER_DELIVERED_ON, {"delivered": delivered}))
    if order.status is OrderStatus.CUSTOMS_HOLD:
        more.append(Reply(policy.REFUSE_CUSTOMS))
    suggestions: tuple[str, ...] = ()
    if order.refund_overdue(now):
        more.append(overdue_notice(order, zone))
        suggestions = (texts.SUGGEST_HUMAN,)
    return Step(summary, Action.ORDER, intent, suggestions, more=tuple(more))


def overdue_notice(order: Order, zone: str | None) -> Reply:
    """Return the notice that a refund is overdue, with the offer of a person."""
    due = local_day(order.refund_due_at, zone) if order.refund_due_at else None
    return Reply(texts.ORDER_REFUND_OVERDUE, {"number": order.number, "due": due})


def list_step(orders: list[Order], intent: str, now: datetime, zone: str | None) -> Step:
    """Return the list of a customer's orders, each with its status."""
    lines = [
        Reply(
            texts.ORDER_LIST_LINE,
            {
                "number": order.number,
                "placed": local_day(order.placed_at, zone),
                "status": Reply(LABELS[order.status]),
            },
        )
        for order in orders
    ]
    overdue = [overdue_notice(order, zone) for order in orders if order.refund_overdue(now)]
    suggestions = (texts.SUGGEST_HUMAN,) if overdue else ()
    return Step(
        Reply(texts.ORDER_MY_ORDERS), Action.ORDER, intent, suggestions, more=(*lines, *overdue)
    )
