"""What the order flow keeps in the database, inside the message's own transaction.

Failed verifications (counted per key for the rate limit, so every process sees them),
the audit trail, one-time deep links from groups, and customers linked to a Telegram
account or a web conversation.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Select, String, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.orders import aware
from bot.storage.models import Customer, OrderAttempt, OrderAudit, OrderLink
from bot.storage.store import ConversationRow, Turn, customer_id

#: Deep-link payloads of the order flow start with this (other ``/start`` payloads do not).
LINK_PREFIX = "o_"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def order_key(number: str) -> str:
    """The rate-limit key of an order number (hashed: keys are not an order list)."""
    return f"order:{_digest(number)[:40]}"


@functools.cache
def _failures_query(keys: int) -> Select[str, int]:
    """The failures of ``keys`` keys (``k0``, ``k1``, ...) since ``since``, per key."""
    named = [bindparam(f"k{n}", type_=String) for n in range(keys)]
    since = bindparam("since", type_=OrderAttempt.__table__.c.created_at.type)
    return (
        select(OrderAttempt.key, func.count())
        .where(OrderAttempt.key.in_(named), OrderAttempt.created_at >= since)
        .group_by(OrderAttempt.key)
    )


async def failures(turn: Turn, keys: Iterable[str], since: datetime) -> dict[str, int]:
    """Return how many failed attempts each of ``keys`` has had since ``since`` (one query)."""
    wanted = sorted(set(keys))
    params: dict[str, object] = {f"k{n}": key for n, key in enumerate(wanted)}
    rows = await turn.rows(_failures_query(len(wanted)), params | {"since": since})
    counts = {key: 0 for key in wanted}
    counts.update({key: int(count) for key, count in rows})
    return counts


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:lock_id)").bindparams(
    bindparam("lock_id", type_=BigInteger)
)


def _lock_id(key: str) -> int:
    """A signed 64-bit number for ``key`` (what PostgreSQL's advisory locks are named by)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


async def serialize(session: AsyncSession, keys: Iterable[str]) -> None:
    """Hold these rate-limit keys until the message's transaction ends (PostgreSQL).

    Counting a key's failures and adding one must not interleave with another
    conversation doing the same: on PostgreSQL each transaction would read the count
    before the others' failures are committed, and a guesser with many conversations
    could try as many contacts at once as it had conversations. Keys are locked in one
    order, so two transactions never wait on each other's keys. SQLite needs nothing:
    its write transactions run one at a time (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        await session.execute(_ADVISORY_LOCK, {"lock_id": _lock_id(key)})


async def record_failure(session: AsyncSession, keys: Iterable[str], now: datetime) -> None:
    """Count one failed attempt against each key."""
    session.add_all(OrderAttempt(key=key, created_at=now) for key in keys)
    await session.flush()


_AUDIT_FIELDS = ("conversation_id", "channel", "actor", "order_number", "action", "outcome")
_AUDIT = insert(OrderAudit).values(
    {
        name: bindparam(name, type_=OrderAudit.__table__.c[name].type)
        for name in (*_AUDIT_FIELDS, "created_at")
    }
)


async def audit(
    turn: Turn,
    *,
    conversation_id: str,
    channel: str,
    actor: str,
    number: str | None,
    action: str,
    outcome: str,
    now: datetime,
) -> None:
    """Write one audit record: who, what, when, and how it ended.

    It is written with the turn's last statements (:meth:`Turn.write`): nothing in the
    turn reads it, and it commits or fails with the turn.
    """
    values = (conversation_id, channel, actor[:128], number, action, outcome)
    await turn.write(_AUDIT, dict(zip(_AUDIT_FIELDS, values, strict=True)) | {"created_at": now})


async def customer_ref(
    session: AsyncSession, conversation: ConversationRow, telegram_user_id: int | None
) -> str | None:
    """Return the shop id of the customer a conversation or Telegram account is linked to."""
    if conversation.customer_id is not None:
        ref = await session.scalar(
            select(Customer.external_id).where(Customer.id == conversation.customer_id)
        )
        if ref:
            return ref
    if telegram_user_id is not None:
        return await session.scalar(
            select(Customer.external_id).where(Customer.telegram_user_id == telegram_user_id)
        )
    return None


async def link_telegram(session: AsyncSession, ref: str, telegram_user_id: int) -> None:
    """Link a Telegram account to a customer (moving it from any other customer)."""
    target = await customer_id(session, ref)
    await session.execute(
        update(Customer)
        .where(Customer.telegram_user_id == telegram_user_id, Customer.id != target)
        .values(telegram_user_id=None)
    )
    await session.execute(
        update(Customer).where(Customer.id == target).values(telegram_user_id=telegram_user_id)
    )


async def create_link(
    session: AsyncSession,
    telegram_user_id: int,
    number: str | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Store a one-time deep link for one Telegram user; return its payload.

    The payload is random: it names no order. Only its hash is stored.
    """
    token = secrets.token_urlsafe(24)
    session.add(
        OrderLink(
            token_hash=_digest(token),
            telegram_user_id=telegram_user_id,
            order_number=number,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return LINK_PREFIX + token


async def redeem_link(
    session: AsyncSession, payload: str, telegram_user_id: int | None, now: datetime
) -> tuple[bool, str | None]:
    """Use a deep link once; return whether it was valid and the order number it carries.

    A link is valid for the user it was made for, once, until it expires.
    """
    if not payload.startswith(LINK_PREFIX) or telegram_user_id is None:
        return False, None
    row = await session.get(OrderLink, _digest(payload[len(LINK_PREFIX) :]), with_for_update=True)
    if (
        row is None
        or row.used_at is not None
        or row.telegram_user_id != telegram_user_id
        or aware(row.expires_at) < now
    ):
        return False, None
    row.used_at = now
    await session.flush()
    return True, row.order_number
