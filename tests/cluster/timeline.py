"""Figures the cluster end-to-end test measures (failover time...), shown in pytest's terminal summary."""

TIMELINE: list[str] = []
