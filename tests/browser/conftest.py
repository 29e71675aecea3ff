# The interop tests run against the same whole system as the end-to-end tests.
from tests.e2e.conftest import (  # noqa: F401
    admin,
    events_broker,
    running_system,
    system_amqp_url,
)
