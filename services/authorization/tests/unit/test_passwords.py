from opencpms_authorization.passwords import StationPasswords


def passwords(**kwargs) -> StationPasswords:
    return StationPasswords(time_cost=1, memory_kib=1024, **kwargs)


def test_a_verified_password_is_remembered_for_its_hash_only():
    store = passwords()
    stored = store.hash("right-password-123")
    assert not store.verified_before(stored, "right-password-123")
    assert store.verify(stored, "right-password-123")
    store.remember(stored, "right-password-123")
    assert store.verified_before(stored, "right-password-123")
    assert not store.verified_before(stored, "wrong-password-123")
    # A new password means a new hash: nothing is remembered for it.
    assert not store.verified_before(store.hash("right-password-123"), "right-password-123")


def test_the_oldest_remembered_hashes_are_forgotten_first():
    store = passwords(remembered=2)
    hashes = [store.hash(f"password-number-{n}") for n in range(3)]
    for n, stored in enumerate(hashes):
        store.remember(stored, f"password-number-{n}")
    assert not store.verified_before(hashes[0], "password-number-0")
    assert store.verified_before(hashes[2], "password-number-2")


def test_wrong_passwords_and_broken_hashes_fail():
    store = passwords()
    assert not store.verify(store.hash("right-password-123"), "nope")
    assert not store.verify("not-a-hash", "right-password-123")
