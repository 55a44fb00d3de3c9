"""gridwatch: city camera and drone footage turned into geotagged tickets.

This package is the composition root (CLI, root config, service wiring, metrics, health); no other
package imports it, and no module here imports itself back through another
(tests/gridwatch/test_architecture.py enforces both). The shared types live in `foundation`. Small
modules hold what several commands share: `signals.Signals` (run, demo, cluster node),
`demo_config.demo_config_path` (demo, `alerts list`), `ops_view` (what metrics reads of a running node).
Detectors are known only through their registrations (`registration.DetectorRegistration`, the shipped
ones in `registered.BUILTIN`): config loading, the service and `replay` iterate them.
"""

__version__ = "0.1.0"
