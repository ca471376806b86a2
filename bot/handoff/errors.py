"""The handoff's errors; the agent API answers each with its status and code.

HandoffError
├── SessionError           401: the agent is not logged in
│   ├── InvalidSession     forged, unknown or logged-out token, or a disabled agent
│   └── SessionExpired
├── WrongLogin             401: unknown login or wrong password
├── TicketNotFound         404
├── QueueEmpty             404: no queued ticket in the agent's languages
├── NotYourTicket          403: the ticket is another agent's
├── TicketTaken            409: another agent claimed it first
├── TicketClosed           409: resolved or cancelled, no more replies
├── AtCapacity             409: the agent has their limit of parallel chats
├── AgentExists            409: the login is taken
├── AgentNotFound          404: no such (active) agent
└── BadTransfer            422: nobody to transfer to
"""

from __future__ import annotations


class HandoffError(Exception):
    """Base of the handoff's errors: a status and a code for the API."""

    status = 400
    code = "handoff_error"


class SessionError(HandoffError):
    """The agent is not logged in."""

    status = 401
    code = "invalid_session"


class InvalidSession(SessionError):
    """The token is forged, unknown, logged out, or its agent disabled."""


class SessionExpired(SessionError):
    """The token's session has expired."""

    code = "session_expired"


class WrongLogin(HandoffError):
    """Unknown login or wrong password (never said which)."""

    status = 401
    code = "wrong_login"


class TicketNotFound(HandoffError):
    """No ticket has that id."""

    status = 404
    code = "ticket_not_found"


class QueueEmpty(HandoffError):
    """No queued ticket in the agent's languages."""

    status = 404
    code = "queue_empty"


class NotYourTicket(HandoffError):
    """The ticket belongs to another agent."""

    status = 403
    code = "not_your_ticket"


class TicketTaken(HandoffError):
    """Another agent claimed the ticket first."""

    status = 409
    code = "ticket_taken"


class TicketClosed(HandoffError):
    """The ticket is resolved or cancelled."""

    status = 409
    code = "ticket_closed"


class AtCapacity(HandoffError):
    """The agent already has their limit of parallel chats."""

    status = 409
    code = "at_capacity"


class AgentExists(HandoffError):
    """An agent with that login exists."""

    status = 409
    code = "agent_exists"


class AgentNotFound(HandoffError):
    """No active agent has that login or id."""

    status = 404
    code = "agent_not_found"


class BadTransfer(HandoffError):
    """The transfer names nobody, or nobody who can take the ticket."""

    status = 422
    code = "bad_transfer"
