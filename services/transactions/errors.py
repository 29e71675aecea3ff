"""Named failures. ``rpc_code`` is what the RPC server reports to the caller."""


class TransactionNotFoundError(Exception):
    rpc_code = "not_found"

    def __init__(self, transaction_id: int) -> None:
        super().__init__(f"transaction {transaction_id} does not exist")
