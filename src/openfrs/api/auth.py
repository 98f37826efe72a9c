"""Authentication seam: every FRS route depends on `authenticate`; the auth issue plugs real checks in.

Today there is no credential store, so with auth on (the default) every call is refused with
FRS.0002 rather than silently allowed; `OPENFRS_AUTH=off` is for local development only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fastapi import Request

from openfrs.errors import FRSError


@dataclass(frozen=True)
class Principal:
    """Who is calling, and for which project (the tenant)."""

    project_id: str
    subject: str


class Authenticator(Protocol):
    async def authenticate(self, request: Request, project_id: str) -> Principal: ...


class NoAuth:
    """OPENFRS_AUTH=off: trust the project id in the path."""

    async def authenticate(self, request: Request, project_id: str) -> Principal:
        return Principal(project_id=project_id, subject="anonymous")


class NotConfiguredAuth:
    """Auth is on but no authenticator is installed yet: refuse, never allow by default."""

    async def authenticate(self, request: Request, project_id: str) -> Principal:
        raise FRSError(
            "FRS.0002",
            "authentication is on but no credentials are configured; "
            "set OPENFRS_AUTH=off for local use",
        )


async def authenticate(request: Request, project_id: str) -> Principal:
    """FastAPI dependency used by every FRS route."""
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(request, project_id)
