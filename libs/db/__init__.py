"""PostgreSQL for OpenCPMS services: engines, one schema per service, the unit of work with its
outbox and inbox, Alembic helpers, role provisioning and test databases."""
