"""Runs the whole of OpenCPMS on one machine as separate processes: provisions the database
roles, applies each service's migrations, starts the five services, waits until they serve,
and stops them cleanly. ``make run`` and the end-to-end tests both use it."""
