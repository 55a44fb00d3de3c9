"""Shared types every package may import, and which import nothing of ours.

- `foundation.errors`: the error hierarchy; every error says whether retrying can help.
- `foundation.yamlsafe`: safe YAML with the line of every key, duplicate keys refused, `${...}` secrets.
- `foundation.histogram`: fixed-bucket histogram data recorded by packages, exported by metrics.
"""
