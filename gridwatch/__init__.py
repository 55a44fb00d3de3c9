"""gridwatch: city camera and drone footage turned into geotagged tickets.

This package is the composition root (CLI, root config, service wiring, metrics, health). Its two
leaf modules `foundation.errors` and `foundation.yamlsafe` are the project's shared types: every
package may import them, and they import nothing of ours. Nothing else here is imported by the
other packages (tests/unit/test_architecture.py enforces it).
"""

__version__ = "0.1.0"
