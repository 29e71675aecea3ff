"""Named failures of the admin service itself (failures of other services arrive as
:class:`opencpms_messaging.rpc_errors.RpcError` and are mapped to HTTP in ``api.errors``)."""


class StationNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id!r} is not registered")


class ApiKeyNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id!r} does not exist")


class ApiKeyNameTakenError(Exception):
    rpc_code = "conflict"

    def __init__(self, name: str) -> None:
        super().__init__(f"an API key named {name!r} exists already")
