"""What one statement of a turn costs on PostgreSQL: SQLAlchemy, psycopg's cursors, libpq.

A turn's lock of its conversation (``SELECT ... FOR UPDATE``), run many times in one
transaction on one connection six ways: through SQLAlchemy's ``execute()`` of the
built statement (as the turn ran it before), through ``exec_driver_sql()`` with the
compiled SQL text, on a psycopg cursor of the connection underneath (as driver.py ran it
until 2026-12-06 20:40 UTC), the lock with the peek after it in one round trip of
psycopg's pipeline mode, and both again through the connection's libpq binding as
bot/storage/driver.py sends them now. Printed: CPU (user and system, this process) and
wall time per statement, for each way, twice over (the second round is the one to read:
every cache is warm).

Then what a turn's connection and transaction cost around its statements: the lock in a
transaction of its own, begun and committed through SQLAlchemy's ``engine.begin()`` (as
turns ran before 2026-12-06), through a pooled connection taken for psycopg
(:class:`bot.storage.driver.Checkout`, as turns run now), and on one psycopg connection
held throughout (no pool at all: the floor). Each way sends BEGIN, the lock and COMMIT:
the pooled checkout in two round trips (BEGIN with the lock, as a turn sends them), the
others in three.

Then an order lookup of an unknown number (one query, as the load benchmark's order
questions make) on the read engine as the bot makes it now, which pings no connection it
takes from its pool (``bot.storage.db.read`` retries a read on a dead one), and on the
same engine with SQLAlchemy's ``pool_pre_ping``, as until 2026-12-07: a round trip more.
Last, a lookup of an order found (the demo's ORD2025000101: one item, one parcel): its
items and parcels joined in one query, as ``bot/orders/sql.py`` reads it now, against
the order, its items and its parcels in three queries, as until 2026-12-07.

It prints figures and asserts nothing.

Run: .venv/bin/python benchmarks/statements.py [--count N]
PostgreSQL: 127.0.0.1:5432, database ``test`` (BENCH_POSTGRES_URL); a fresh schema,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core import Channel
from bot.handoff.flow import HandoffFlow
from bot.orders import Order, OrderItem, Shipment, aware
from bot.orders.demo import load_demo
from bot.orders.sql import SqlOrderService, from_minor, order
from bot.storage import db, models, store
from bot.storage import driver as pg
from bot.storage.db import async_url, create_engine, upgrade

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def measure(url: str, count: int) -> None:
    engine = create_engine(url)
    info, _ = await store.Store(engine).create_conversation(Channel.WEB)
    params = {"conversation_id": info.id, "client_message_id": "m1"}
    queries = {**HandoffFlow.PEEK, store.REPLAY: store._REPLAY_PEEK}
    peek = store._peek(queries).statement
    lock = pg.compile_for(store._LOCK, engine.dialect)
    peeked = pg.compile_for(peek, engine.dialect)
    checkout = await pg.Checkout.take(engine)
    connection = checkout.connection

    async def sqlalchemy() -> None:
        (await connection.execute(store._LOCK, params)).first()

    async def driver_sql() -> None:
        (await connection.exec_driver_sql(lock.sql, params)).first()

    # psycopg's cursors, as driver.py ran the statements until 2026-12-06 20:40 UTC: one
    # cursor per statement, kept; psycopg prepares a statement after its fifth run
    driver = checkout.driver
    driver.prepare_threshold = 5  # (the bot's turns switch psycopg's own preparing off)
    lock_cursor, peek_cursor = driver.cursor(), driver.cursor()
    lock_sql, peek_sql = lock.sql.encode(), peeked.sql.encode()
    lock_params, peek_params = lock.parameters(params), peeked.parameters(params)

    async def psycopg_cursor() -> None:
        await lock_cursor.execute(lock_sql, lock_params)
        await lock_cursor.fetchone()

    async def psycopg_cursors_pipelined() -> None:
        async with driver.pipeline():
            await lock_cursor.execute(lock_sql, lock_params)
            await peek_cursor.execute(peek_sql, peek_params)
        await lock_cursor.fetchone()
        await peek_cursor.fetchone()

    async def libpq() -> None:
        await pg.first_rows(checkout, [(lock, params)])

    async def libpq_pipelined() -> None:
        await pg.first_rows(checkout, [(lock, params), (peeked, params)])

    await rounds(
        "way",
        count,
        {
            "SQLAlchemy execute(statement)": sqlalchemy,
            "SQLAlchemy exec_driver_sql(text)": driver_sql,
            "psycopg cursor": psycopg_cursor,
            "psycopg cursors, lock + peek": psycopg_cursors_pipelined,
            "libpq (driver.py)": libpq,
            "libpq, lock + peek (driver.py)": libpq_pipelined,
        },
    )
    driver.prepare_threshold = None
    await checkout.release(None)

    async def engine_begin() -> None:
        async with engine.begin() as connection:
            raw = await connection.get_raw_connection()
            taken = pg.Checkout(engine, raw)  # its statements run on psycopg, as before
            await pg.first_rows(taken, [(lock, params)])

    async def pooled_checkout() -> None:
        taken = await pg.Checkout.take(engine)
        try:
            await pg.first_rows(taken, [(lock, params)], begin=True)  # COMMIT in release()
        finally:
            await taken.release(None)

    held = await psycopg.AsyncConnection.connect(url)

    async def one_connection() -> None:
        cursor = held.cursor()
        await cursor.execute(lock.sql, params)
        await cursor.fetchone()
        await held.commit()

    print()
    await rounds(
        "a transaction with the lock",
        count,
        {
            "SQLAlchemy engine.begin(), commit": engine_begin,
            "pooled checkout (driver.py)": pooled_checkout,
            "one psycopg connection, no pool": one_connection,
        },
    )
    await held.close()
    await engine.dispose()

    # The read engine: an order lookup inside a turn (an unknown number: one query).
    reader = create_engine(url, pool_size=2, reader=True)
    pinging = create_async_engine(
        async_url(url), pool_size=2, max_overflow=0, isolation_level="AUTOCOMMIT",
        pool_pre_ping=True, hide_parameters=True,
    )  # fmt: skip
    optimistic, pinged = SqlOrderService(reader), SqlOrderService(pinging)

    async def without_ping() -> None:
        await optimistic.get("ORD1234567")

    async def with_ping() -> None:
        await pinged.get("ORD1234567")

    print()
    await rounds(
        "an order lookup on the read engine",
        count,
        {
            "read(), no pre-ping (db.py)": without_ping,
            "pool_pre_ping (until 2026-12-07)": with_ping,
        },
    )

    # A found order (the demo's, one item in one parcel): one joined query, as the order
    # service reads it now, against three, as it did until 2026-12-07.
    writer = create_engine(url)
    await load_demo(writer)
    await writer.dispose()
    number = "ORD2025000101"
    assert await optimistic.get(number) == await three_queries(reader, number)

    async def joined() -> None:
        await optimistic.get(number)

    async def separate() -> None:
        await three_queries(reader, number)

    print()
    await rounds(
        "a found order: order, items, parcels",
        count,
        {
            "one joined query (orders/sql.py)": joined,
            "three queries (until 2026-12-07)": separate,
        },
    )
    await reader.dispose()
    await pinging.dispose()


_ORDERS, _CUSTOMERS = models.Order.__table__, models.Customer.__table__
_ITEMS, _SHIPMENTS = models.OrderItem.__table__, models.Shipment.__table__
_ORDER = (
    select(_ORDERS, _CUSTOMERS.c.external_id.label("customer_ref"))
    .join(_CUSTOMERS, _ORDERS.c.customer_id == _CUSTOMERS.c.id)
    .where(_ORDERS.c.number == bindparam("number"))
)
_ITEMS_OF = select(_ITEMS).where(_ITEMS.c.order_id == bindparam("order_id")).order_by(_ITEMS.c.id)
_SHIPMENTS_OF = (
    select(_SHIPMENTS)
    .where(_SHIPMENTS.c.order_id == bindparam("order_id"))
    .order_by(_SHIPMENTS.c.shipped_at, _SHIPMENTS.c.id)
)


async def three_queries(engine: AsyncEngine, number: str) -> Order | None:
    """An order read as bot/orders/sql.py read it until 2026-12-07: three queries."""

    async def work(connection: AsyncConnection) -> Order | None:
        row = (await connection.execute(_ORDER, {"number": number})).first()
        if row is None:
            return None
        items = (await connection.execute(_ITEMS_OF, {"order_id": row.id})).all()
        shipments = (await connection.execute(_SHIPMENTS_OF, {"order_id": row.id})).all()
        return order(
            row,
            (
                OrderItem(i.sku, i.name, i.quantity, from_minor(i.unit_price_minor, row.currency))
                for i in items
            ),
            (
                Shipment(
                    s.carrier,
                    s.tracking_number,
                    aware(s.shipped_at),
                    aware(s.delivered_at) if s.delivered_at else None,
                )
                for s in shipments
            ),
        )

    return await db.read(engine, work)


async def rounds(title: str, count: int, ways: dict[str, Callable[[], Awaitable[None]]]) -> None:
    """Run each way ``count`` times, twice over, and print its CPU and wall time per call."""
    print(f"{title:34} {'CPU ms/call':>11} {'wall ms/call':>12}")
    for round_ in (1, 2):
        print(f"round {round_}")
        for name, way in ways.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(count):
                await way()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"  {name:32} {cpu / count * 1000:11.3f} {wall / count * 1000:12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="calls per way and round")
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        upgrade(url)
        print(f"statement benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}, {args.count} calls")
        print("  one connection, one transaction; the conversation lock of a turn")
        print(f"  load average before: {os.getloadavg()[0]:.2f}")
        asyncio.run(measure(url, args.count))
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
