#!/usr/bin/env bash
# Regenerate the image's hash-pinned locks from pyproject.toml (run from anywhere; needs `uv` and the index).
#   requirements-gpu.lock    runtime dependencies + the `gpu` extra, for CPython 3.11 on x86_64 glibc 2.35
#                            (Ubuntu 22.04, the base image); CPU `onnxruntime` excluded (lock-excludes.txt),
#                            onnxruntime-gpu bounded to the CUDA 12 builds (lock-constraints.txt)
#   requirements-build.lock  the build backend (setuptools), for building the gridwatch wheel in the image
# Review the diff, then rebuild the image. tests/deploy checks the result statically.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
common=(--generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_35
        --custom-compile-command "deploy/container/lock.sh")
uv pip compile pyproject.toml --extra gpu \
  --excludes deploy/container/lock-excludes.txt \
  --constraints deploy/container/lock-constraints.txt \
  "${common[@]}" -o deploy/container/requirements-gpu.lock
uv pip compile deploy/container/build-requirements.in \
  "${common[@]}" -o deploy/container/requirements-build.lock
