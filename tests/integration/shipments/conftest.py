from tests.integration.shipments.factories import fixed_today, librarian  # noqa: F401
