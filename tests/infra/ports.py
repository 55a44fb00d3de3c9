"""Free loopback ports for servers started by tests (the code lives in benchmarks.ports, shared with the
benchmarks, which start the same servers)."""

from benchmarks.ports import free_port, wait_port

__all__ = ["free_port", "wait_port"]
