"""Which optional extra (pyproject `[project.optional-dependencies]`) brings which module, so a command
whose module is missing names the extra to install instead of ending in a ModuleNotFoundError traceback.
tests/gridwatch/test_cli_errors.py keeps this table in step with pyproject.toml."""

from __future__ import annotations

from foundation.errors import MissingExtraError

EXTRA_OF_MODULE: dict[str, str] = {
    "matplotlib": "bench",
    "ultralytics": "export",
    "torch": "export",
    "onnxslim": "export",
    "boto3": "s3",
    "botocore": "s3",
    "rasterio": "survey",
}


def missing_extra(exc: ModuleNotFoundError, needed_for: str) -> MissingExtraError | None:
    """The MissingExtraError for a module an extra provides, or None for any other missing module."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    return MissingExtraError(extra, needed_for, top) if extra else None
