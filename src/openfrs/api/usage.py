"""Count each successful API call (status < 400) per project / API / day, as FRS bills, and apart
each throttled one (429: over the QPS limit or the inference queue) and each other refused or
failed one (another 4xx or a 5xx), which are never billed. A call refused before it is known
whose it is (a bad signature) is counted by no project. The status is the one the surface left
in the request state when it did (a Tencent refusal is an HTTP 200 that stands for a 4xx:
api/auth.call_status). Pure ASGI; the count is committed before the response starts, so a
client that reads its usage right after a call sees that call."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openfrs.api.auth import call_labels, call_status
from openfrs.service.tenancy import Tenancy


class UsageMiddleware:
    def __init__(self, app: ASGIApp, tenancy: Tenancy) -> None:
        self.app = app
        self.tenancy = tenancy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def counted(message: Message) -> None:
            status = message.get("status", 0) if message["type"] == "http.response.start" else 0
            status = call_status(state, status) if status else 0
            if status:
                labels = call_labels(state)
                if labels is not None:
                    await asyncio.to_thread(self.tenancy.count_call, *labels, status == 429,
                                            status >= 400 and status != 429)
            await send(message)

        await self.app(scope, receive, counted)
