"""The order service on the shop's order API (``ORDER_API_URL``, ``ORDER_API_TOKEN``).

The API this client expects (JSON, ``Authorization: Bearer <token>``)::

    GET {ORDER_API_URL}/orders/{number}            200 an order, 404 no such order
    GET {ORDER_API_URL}/customers/{ref}/orders     200 {"orders": [order, ...]}

    order = {"number": "ORD2025000101", "status": "shipped", "customer_id": "C-1001",
             "email": "...", "phone": "...", "currency": "EUR", "total": "129.90",
             "placed_at": "2025-11-02T10:15:00Z", "updated_at": "...",
             "refund_due_at": null,
             "items": [{"sku": "...", "name": "...", "quantity": 1, "unit_price": "129.90"}],
             "shipments": [{"carrier": "DHL", "tracking_number": "...",
                            "shipped_at": "...", "delivered_at": null}]}

Errors, as a tree (all become :class:`~bot.errors.OrderServiceUnavailable`)::

    httpx.TransportError (connect, read, timeouts)  retried, then unavailable
    5xx, 429                                        retried, then unavailable
    other 4xx (401 wrong token, 400 ...)            unavailable at once (a setup error)
    other httpx.HTTPError (undecodable, redirects)  unavailable at once
    a body that is not the JSON above               unavailable at once
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import OrderServiceUnavailable
from bot.orders import Order, OrderItem, OrderStatus, Shipment, aware

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpOrderService:
    """Asks the shop's order API; retries transient failures a few times."""

    def __init__(self, client: httpx.AsyncClient, retries: int = 2, backoff: float = 0.2) -> None:
        """Use ``client`` (its base URL, token header and timeouts set by the caller)."""
        self._client = client
        self._retries = retries
        self._backoff = backoff

    async def get(self, number: str) -> Order | None:
        """Return the order with this number, or ``None`` when the API says 404."""
        body = await self._get(f"orders/{quote(number, safe='')}")
        return None if body is None else _order(body)

    async def orders_of(self, customer_ref: str) -> list[Order]:
        """Return a customer's orders, newest first."""
        body = await self._get(f"customers/{quote(customer_ref, safe='')}/orders")
        if body is None:
            return []
        orders = body.get("orders")
        if not isinstance(orders, list):
            raise OrderServiceUnavailable("order API: no 'orders' list")
        found = [_order(item) for item in orders]
        return sorted(found, key=lambda o: o.placed_at, reverse=True)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _get(self, path: str) -> dict[str, Any] | None:
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = await self._client.get(path)
            except httpx.TransportError as error:
                log.warning("order API %s failed: %s", path, error.__class__.__name__)
                if last:
                    raise OrderServiceUnavailable(
                        f"order API: {error.__class__.__name__}"
                    ) from error
            except httpx.HTTPError as error:  # undecodable body, redirect loop: not transient
                raise OrderServiceUnavailable(f"order API: {error.__class__.__name__}") from error
            else:
                if response.status_code == 404:
                    return None
                if response.status_code not in RETRY_STATUSES or last:
                    return _json(response)
                log.warning("order API %s answered %d", path, response.status_code)
            await asyncio.sleep(self._backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise OrderServiceUnavailable(f"order API answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as error:
        raise OrderServiceUnavailable("order API: the body is not JSON") from error
    if not isinstance(body, dict):
        raise OrderServiceUnavailable("order API: the body is not an object")
    return body


def _order(data: Any) -> Order:
    """Read one order of the API; anything malformed makes the service unavailable."""
    try:
        currency = str(data["currency"]).upper()
        return Order(
            number=str(data["number"]),
            status=OrderStatus(data["status"]),
            customer_ref=_text(data.get("customer_id")),
            email=_text(data.get("email")),
            phone=_text(data.get("phone")),
            currency=currency,
            total=Decimal(str(data["total"])),
            placed_at=_time(data["placed_at"]),
            updated_at=_time(data.get("updated_at") or data["placed_at"]),
            refund_due_at=_time(data["refund_due_at"]) if data.get("refund_due_at") else None,
            items=tuple(
                OrderItem(
                    str(i["sku"]), str(i["name"]), int(i["quantity"]), Decimal(str(i["unit_price"]))
                )
                for i in data.get("items") or ()
            ),
            shipments=tuple(
                Shipment(
                    str(s["carrier"]),
                    str(s["tracking_number"]),
                    _time(s["shipped_at"]),
                    _time(s["delivered_at"]) if s.get("delivered_at") else None,
                )
                for s in data.get("shipments") or ()
            ),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise OrderServiceUnavailable(f"order API: malformed order ({error!r})") from error


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _time(value: Any) -> datetime:
    return aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
