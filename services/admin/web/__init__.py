"""The operators' web UI: server-rendered pages on top of the admin API, live through
server-sent events."""
