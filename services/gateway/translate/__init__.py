"""Pure translation between OCPP payloads (as parsed JSON, camelCase) and OpenCPMS contracts.

No I/O here: every function takes a payload and returns a contract, or takes a contract and
returns a payload, and is tested with recorded frames.
"""
