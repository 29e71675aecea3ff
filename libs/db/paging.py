"""Limit/offset pages with a total count, as every listing in the admin API returns them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


async def fetch_page(
    session: AsyncSession, query: Select[RowT], *, limit: int, offset: int
) -> tuple[Sequence[RowT], int]:
    """One page of ``query`` (which must be ordered) and the number of rows it matches."""
    counted: Select[Any] = select(func.count()).select_from(query.order_by(None).subquery())
    total = (await session.execute(counted)).scalar_one()
    rows = (await session.execute(query.limit(limit).offset(offset))).scalars().all()
    return rows, total
