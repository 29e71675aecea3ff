"""Named domain failures. ``rpc_code`` is what the RPC server reports to the caller."""


class StationNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id!r} is not registered")


class StationAlreadyRegisteredError(Exception):
    rpc_code = "conflict"

    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id!r} is already registered")


class IdTokenNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, value: str) -> None:
        super().__init__(f"id token {value!r} does not exist")


class IdTokenAlreadyExistsError(Exception):
    rpc_code = "conflict"

    def __init__(self, value: str) -> None:
        super().__init__(f"id token {value!r} already exists")
