"""OpenCPMS."""
