"""What one connection's Authorize calls were answered, kept so that the transaction message
that follows with the same token (OCPP 1.6 StartTransaction or StopTransaction, 2.x
TransactionEvent with an idToken) is answered with it rather than asking the authorization
service again.

A station authorizes a driver's token and then starts the session with it, usually seconds
later. The second question cost a broker round trip, the service's lookup and, for the station,
a second wait before its transaction was even recorded: one RPC call in ten of the bench's full
mix, and half of the authorization service's CPU in it (docs/performance.md). An answer is
used once, by the first transaction message with its token, and only within ``reuse_s`` of the
Authorize that got it: a token blocked meanwhile is refused from its next Authorize on, as a
station's own authorization cache would have it. ``reuse_s`` 0 asks the service every time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from opencpms_contracts.common import IdToken, IdTokenInfo

# Tokens a connection remembers at once: one per connector being started is plenty; a station
# authorizing more tokens than this without starting anything just asks again later.
CAPACITY = 4


class RecentAuthorizations:
    __slots__ = ("_answers", "_clock", "_reuse_s")

    def __init__(self, reuse_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._reuse_s = reuse_s
        self._clock = clock
        # Created on the first Authorize: most of a fleet's connections never hold one.
        self._answers: dict[tuple[str, str], tuple[IdTokenInfo, float]] | None = None

    def remember(self, token: IdToken, info: IdTokenInfo) -> None:
        if self._reuse_s <= 0:
            return
        if self._answers is None:
            self._answers = {}
        key = (token.value, token.type)
        self._answers.pop(key, None)  # a new answer goes to the back, as the newest
        self._answers[key] = (info, self._clock() + self._reuse_s)
        while len(self._answers) > CAPACITY:
            del self._answers[next(iter(self._answers))]

    def take(self, token: IdToken) -> IdTokenInfo | None:
        """The answer remembered for ``token``, if still fresh; forgotten either way."""
        if not self._answers:
            return None
        remembered = self._answers.pop((token.value, token.type), None)
        if remembered is None:
            return None
        info, fresh_until = remembered
        return info if self._clock() < fresh_until else None
