"""OpenCPMS message contracts: one versioned pydantic model for every RPC and every event.

Producers and consumers import the same model; nothing is parsed by hand twice. This package
does no I/O.
"""
