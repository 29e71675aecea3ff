"""Named failures. ``rpc_code`` is what the RPC server reports to the caller."""


class TariffNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, tariff_id: str) -> None:
        super().__init__(f"tariff {tariff_id!r} does not exist")


class UnsupportedTariffError(Exception):
    rpc_code = "invalid"

    def __init__(self, tariff_id: str) -> None:
        super().__init__(f"only the 'default' tariff is applied; {tariff_id!r} would never be")


class CdrNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, cdr_id: str) -> None:
        super().__init__(f"CDR {cdr_id!r} does not exist")


class TariffMissingError(Exception):
    """No tariff was in force when a session ended. The service seeds the default tariff at
    start, so this is an operational fault (a row deleted by hand): the message is retried and,
    if it persists, dead-lettered for an operator to replay."""

    def __init__(self, tariff_id: str, ended_at: object) -> None:
        super().__init__(f"no tariff {tariff_id!r} in force at {ended_at}")
