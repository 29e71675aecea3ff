"""Query and path parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
Offset = Annotated[int, Query(ge=0, description="Items to skip")]
StationIdPath = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9._:@\-]+$")]
