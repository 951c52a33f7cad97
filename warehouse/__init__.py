"""Returnyard's domain: the return flow from announcement to close, with no HTTP in it."""
