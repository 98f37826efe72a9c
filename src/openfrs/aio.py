"""Small asyncio helpers shared by the api and service layers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def gather_or_cancel(*coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run concurrently; the first failure cancels the others and is raised as itself.

    Unlike asyncio.gather, a failed image (bad base64, no face) does not leave its sibling
    fetching a URL or running inference for a request that is already answered.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]
