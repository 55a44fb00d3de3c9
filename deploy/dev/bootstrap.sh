#!/usr/bin/env bash
# Prepare a development machine: system programs the tests drive (GStreamer RTSP server, kcat,
# promtool, Java for Kafka) and a Python virtual environment built from the hash-pinned lock.
# Everything large is cached outside the repository, under $GRIDWATCH_CACHE (default ~/.cache/gridwatch),
# so a second run takes seconds. Prints the venv's python path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${GRIDWATCH_CACHE:-$HOME/.cache/gridwatch}
lock="$here/requirements-dev.lock"
mkdir -p "$cache"

log() { echo "[bootstrap] $*" >&2; }

# --- system packages (Debian) -------------------------------------------------------------
apt_packages=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-tools kcat prometheus)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    log "installing Debian packages with sudo: ${missing[*]}"
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  else
    log "missing Debian packages (install them as root): ${missing[*]}"
    exit 1
  fi
fi
command -v java >/dev/null || { log "java (17+) is required for the Kafka broker"; exit 1; }

# --- uv, then the venv --------------------------------------------------------------------
python=${GRIDWATCH_PYTHON:-python3}
uv=$(command -v uv || true)
if [ -z "$uv" ]; then
  if [ ! -x "$cache/uv-venv/bin/uv" ]; then
    log "installing uv into $cache/uv-venv"
    "$python" -m venv "$cache/uv-venv"
    "$cache/uv-venv/bin/pip" install -q "uv==0.13.9"
  fi
  uv="$cache/uv-venv/bin/uv"
fi

venv="$cache/venv"
stamp="$venv/.gridwatch-lock-sha256"
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "building $venv from $(basename "$lock") (first time: a few minutes, torch is large)"
  [ -x "$venv/bin/python" ] || "$uv" venv -q -p "$python" "$venv" >&2
  "$uv" pip sync -q -p "$venv/bin/python" "$lock" >&2
  echo "$want" > "$stamp"
fi

# --- trained weights ----------------------------------------------------------------------
# Fetched from their pinned registry package into $cache/weights (wheel sha256 checked), exported to
# ONNX (fp32, and INT8 with its agreement stored), never committed: `gridwatch models fetch` is a no-op
# once the cache is complete. GRIDWATCH_SKIP_WEIGHTS=1 skips it (the fire model then fails to load with
# the command to run).
if [ "${GRIDWATCH_SKIP_WEIGHTS:-0}" != "1" ]; then
  log "trained weights: gridwatch models fetch fire-smoke (first time: a few minutes of exports)"
  PYTHONPATH="$repo" GRIDWATCH_CACHE="$cache" "$venv/bin/python" -m gridwatch models fetch fire-smoke >&2
fi

# The repository itself is used from its checkout (PYTHONPATH), never installed into the shared venv,
# so several checkouts can share one venv.
echo "$venv/bin/python"
