from backend.core.security import csrf_token, hash_password, keyed_digest, verify_password


def test_passwords_verify_only_with_the_right_password():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password(None, "anything")  # an absent account never verifies
    assert not verify_password("not-a-hash", "x")


def test_keyed_digests_depend_on_key_and_purpose():
    assert keyed_digest("k1", "a", "v") != keyed_digest("k2", "a", "v")
    assert keyed_digest("k1", "a", "v") != keyed_digest("k1", "b", "v")
    assert csrf_token("k", "s1") == csrf_token("k", "s1") != csrf_token("k", "s2")
