"""Audit records of changes made through the API (face sets, faces), written before the answer
goes out, so an acknowledged change always has its record: who (the credential or user), when,
what (action, resource, detail) and the request id the client saw."""

from __future__ import annotations

import asyncio

from fastapi import Request

from openfrs.api.auth import Principal


async def record(request: Request, principal: Principal, action: str, resource: str,
                 detail: dict | None = None) -> None:
    await asyncio.to_thread(request.app.state.tenancy.audit, principal.project_id, principal.subject,
                            action, resource, detail or {}, getattr(request.state, "request_id", ""))
