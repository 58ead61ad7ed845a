"""graphrestore: the Python client of the graphrestore gateway.

The names below are imported when first used, so that `import graphrestore` loads no gRPC
(restorectl must configure gRPC before it is imported) and never the CLI modules."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphrestore.client import AsyncClient, Client
    from graphrestore.errors import GatewayError

__all__ = ["AsyncClient", "Client", "GatewayError"]
_HOMES = {"AsyncClient": "client", "Client": "client", "GatewayError": "errors"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'graphrestore' has no attribute {name!r}")
    return getattr(importlib.import_module(f"graphrestore.{_HOMES[name]}"), name)
