"""The tables of the human handoff: tickets, agents, agent sessions and ratings.

They live on the same declarative :class:`~bot.storage.models.Base` as the
conversations, so one metadata (and one Alembic history) covers the whole schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class Agent(Base):
    """A support agent: the languages they speak and how many chats they take at once."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    """A logged-in agent's bearer token (stored only hashed) and its expiry."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    """A conversation handed to a person: its queue entry, SLA and outcome."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "priority_rank", "sla_deadline"),
        Index("ix_tickets_conversation", "conversation_id", "status"),
        Index("ix_tickets_agent", "agent_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    language: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))  # urgent, complex, regular
    priority_rank: Mapped[int] = mapped_column(Integer)  # 0 urgent, 1 complex, 2 regular
    reason: Mapped[str] = mapped_column(String(32))
    sla_deadline: Mapped[datetime] = mapped_column()
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(24), default="queued")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    first_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Rating(Base):
    """The customer's 1-5 rating of a closed ticket, with an optional comment."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
