"""Run `gridwatch run` as a real subprocess for integration tests, and talk to its HTTP endpoint.

The launcher lives in `benchmarks/service_proc.py` (the pipeline benchmark drives the service the same
way, and benchmarks may not import tests); this module keeps the tests' import path.
"""

from benchmarks.service_proc import REPO, GridwatchProcess

__all__ = ["REPO", "GridwatchProcess"]
