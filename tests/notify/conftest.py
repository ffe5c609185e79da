from tests.realtime.test_push import push_service  # noqa: F401 (the push service fixture of the realtime tests)
