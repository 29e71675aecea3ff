"""OpenCPMS authorization service: stations' identity and credentials, boot decisions, id
tokens."""
