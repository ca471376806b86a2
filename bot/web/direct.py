"""A FastAPI route for the web chat's message endpoint: the same contract, less work a request.

FastAPI answers a request to a path operation in general steps: it reads the content
type through :mod:`email`, solves the endpoint's parameters as a dependency graph,
validates the returned object against the response model again and turns it into JSON
through ``jsonable_encoder``. For ``POST /api/v1/conversations/{id}/messages``, the
request every customer message is, a FastAPI app answered a request of this shape (in
process, no network) in 96-101 µs of CPU with FastAPI's route, 48-63 µs with this one,
19-26 µs with a bare Starlette app; side by side under load the bot spent 9.3 % and
2.8 % less CPU a message (``benchmarks/side_by_side.py``, the two start orders).

:class:`DirectRoute` is FastAPI's documented hook for this (a custom ``APIRoute`` class
whose :meth:`get_route_handler` returns the handler). The endpoint is declared as any
other, so its OpenAPI document, its parameters and response model stay what FastAPI
reads from its signature. Only the handling of a request is direct: the body is parsed
with :func:`json.loads` and validated by its pydantic model, the path parameters and
headers are read as strings, and the returned model is written with pydantic's own
JSON serializer. Errors are FastAPI's own exceptions (``RequestValidationError`` with a
``body`` location, ``HTTPException(400)`` for a body that is not text), so the app's
error handlers answer them as for any route.

It takes endpoints of that shape only, and says so when the route is built: the
``Request``, string path parameters, one JSON body (a pydantic model) and headers of
type ``str | None`` without constraints, returning an instance of the response model.

:func:`put_first` goes one step further for such a route: a :class:`FrontRoute` at the
head of the app's route list matches its method and path before any other route and
calls its handler. FastAPI's router otherwise reaches it through the included router's
own matching and the route's wrappers: side by side the bot spent 1.7 and 3.2 % less CPU
a message (2026-12-07). Everything around the router stays: the middleware, the
exception handlers (which answer what the handler raises, as for any route) and the
declared route, which the OpenAPI document and every other method on the path still use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send


def _json_media_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` names JSON, as FastAPI's strict check reads it."""
    if not content_type:
        return False
    main, _, sub = content_type.partition(";")[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class DirectRoute(APIRoute):
    """An ``APIRoute`` that parses, calls and serialises its endpoint directly."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Check the endpoint's shape (``TypeError`` if FastAPI must handle it) and wrap it."""
        dependant = self.dependant
        model, body_name = self._body_model()
        response_model = self.response_model
        if not (isinstance(response_model, type) and issubclass(response_model, BaseModel)):
            raise TypeError(f"{self.path}: a DirectRoute needs a pydantic response model")
        if (
            dependant.dependencies
            or dependant.query_params
            or dependant.cookie_params
            or dependant.request_param_name is None
        ):
            raise TypeError(
                f"{self.path}: a DirectRoute takes the Request, path parameters, headers and "
                "one JSON body only"
            )
        for field in (*dependant.path_params, *dependant.header_params):
            if field.field_info.annotation not in (str, str | None) or field.field_info.metadata:
                raise TypeError(f"{self.path}: {field.name} must be a plain str parameter")
        paths = [(field.name, field.alias) for field in dependant.path_params]
        headers = [(field.name, field.alias) for field in dependant.header_params]
        request_name = dependant.request_param_name
        endpoint = self.endpoint
        status_code = self.status_code or 200

        async def handler(request: Request) -> Response:
            raw = await request.body()
            if not _json_media_type(request.headers.get("content-type")):
                message = "Content-Type must be application/json"
                raise RequestValidationError(
                    [{"type": "model_attributes_type", "loc": ("body",), "msg": message}]
                )
            if not raw:
                raise RequestValidationError(
                    [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
                )
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as error:
                invalid = {"type": "json_invalid", "loc": ("body", error.pos), "msg": error.msg}
                raise RequestValidationError([invalid]) from None
            except ValueError:  # not UTF-8 (UnicodeDecodeError), as FastAPI answers it
                raise HTTPException(400, "There was an error parsing the body") from None
            try:
                body = model.model_validate(data)
            except ValidationError as error:
                raise RequestValidationError(
                    [
                        {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
                        for e in error.errors(include_url=False, include_context=False)
                    ]
                ) from None
            arguments: dict[str, Any] = {request_name: request, body_name: body}
            path_params = request.path_params
            for name, alias in paths:
                arguments[name] = path_params[alias]
            request_headers = request.headers
            for name, alias in headers:
                arguments[name] = request_headers.get(alias)
            result = await endpoint(**arguments)
            if not isinstance(result, response_model):
                raise TypeError(f"{self.path}: the endpoint returned {type(result).__name__}")
            return Response(result.model_dump_json(), status_code, media_type="application/json")

        return handler

    def _body_model(self) -> tuple[type[BaseModel], str]:
        """The endpoint's one body parameter: its pydantic model and its name."""
        fields = self.dependant.body_params
        model = fields[0].field_info.annotation if len(fields) == 1 else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{self.path}: a DirectRoute needs one pydantic model as its body")
        return model, fields[0].name


class FrontRoute(BaseRoute):
    """A :class:`DirectRoute`'s method and path, matched first, straight to its handler."""

    def __init__(self, route: DirectRoute) -> None:
        """Take the route as the app serves it (its full path)."""
        self.route = route
        self.path_format = route.path_format
        self._handler = route.get_route_handler()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """The route's own full match (method and path); ``NONE`` otherwise, so the list goes on."""
        match, child_scope = self.route.matches(scope)
        return (match, child_scope) if match == Match.FULL else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with the route's handler (what it raises goes to the app's handlers)."""
        response = await self._handler(Request(scope, receive, send))
        await response(scope, receive, send)


def put_first(app: FastAPI, router: APIRouter) -> None:
    """Put a :class:`FrontRoute` for each of ``router``'s DirectRoutes first in ``app``.

    ``router`` must be included in ``app`` without a prefix (its routes' paths are the
    app's); the routes stay where they are for everything else.
    """
    front = [FrontRoute(route) for route in router.routes if isinstance(route, DirectRoute)]
    app.router.routes[:0] = front
