"""Binding a handler's keyword-only dependencies, as each service's bootstrap does."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any


def bind_dependencies(
    handler: Callable[..., Any], dependencies: Mapping[str, object]
) -> Callable[..., Any]:
    """``handler`` with each keyword-only parameter filled from ``dependencies`` by name.

    Fails at start-up, not at the first message, when a handler asks for something the
    composition root does not provide.
    """
    wanted = [
        name
        for name, param in inspect.signature(handler).parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    missing = [name for name in wanted if name not in dependencies]
    if missing:
        raise LookupError(f"{handler.__qualname__} needs {', '.join(missing)}")
    return functools.partial(handler, **{name: dependencies[name] for name in wanted})
