"""A connection's Authorize answers, reused once by the transaction message that follows."""

from __future__ import annotations

from opencpms_contracts.common import AuthorizationStatus, IdToken, IdTokenInfo
from opencpms_gateway.authorizations import CAPACITY, RecentAuthorizations


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


ACCEPTED = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
BLOCKED = IdTokenInfo(status=AuthorizationStatus.BLOCKED)


def token(value: str, type_: str = "ISO14443") -> IdToken:
    return IdToken(value=value, type=type_)


def clocked() -> tuple[RecentAuthorizations, Clock]:
    clock = Clock()
    return RecentAuthorizations(30, clock=clock), clock


def test_an_answer_is_reused_once() -> None:
    recent = RecentAuthorizations(30, clock=Clock())
    recent.remember(token("A"), ACCEPTED)
    assert recent.take(token("A")) == ACCEPTED
    assert recent.take(token("A")) is None


def test_an_answer_older_than_the_reuse_time_is_not_reused() -> None:
    recent, clock = clocked()
    recent.remember(token("A"), ACCEPTED)
    clock.now += 29.9
    recent.remember(token("B"), ACCEPTED)
    clock.now += 0.1
    assert (recent.take(token("A")), recent.take(token("B"))) == (None, ACCEPTED)


def test_the_latest_answer_for_a_token_is_the_one_reused() -> None:
    recent, clock = clocked()
    recent.remember(token("A"), ACCEPTED)
    clock.now += 20
    recent.remember(token("A"), BLOCKED)
    clock.now += 20  # past the first answer's time, within the second's
    assert recent.take(token("A")) == BLOCKED


def test_a_token_of_another_type_is_another_token() -> None:
    recent = RecentAuthorizations(30, clock=Clock())
    recent.remember(token("A", "ISO14443"), ACCEPTED)
    assert recent.take(token("A", "eMAID")) is None
    assert recent.take(token("A", "ISO14443")) == ACCEPTED


def test_no_reuse_time_remembers_nothing() -> None:
    recent = RecentAuthorizations(0, clock=Clock())
    recent.remember(token("A"), ACCEPTED)
    assert recent.take(token("A")) is None


def test_past_its_capacity_a_connection_forgets_the_oldest_answer() -> None:
    recent = RecentAuthorizations(30, clock=Clock())
    for n in range(CAPACITY):
        recent.remember(token(f"T{n}"), ACCEPTED)
    recent.remember(token("T0"), BLOCKED)  # answered again: now the newest
    recent.remember(token("NEW"), ACCEPTED)
    assert recent.take(token("T1")) is None
    assert recent.take(token("T0")) == BLOCKED
    assert recent.take(token("NEW")) == ACCEPTED
    assert all(recent.take(token(f"T{n}")) == ACCEPTED for n in range(2, CAPACITY))
