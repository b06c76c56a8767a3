#!/usr/bin/env bash
# Set up the suite (idempotent): a virtual environment in .venv with the suite and its pinned dependencies,
# and the datasets pulled with DVC from the remote named in .dvc/config (../shared/dvc-remote here).
# The first run downloads PyTorch from PyPI (a few minutes, about 5 GB); later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")"
export DVC_NO_ANALYTICS=1

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version 2>&1)"
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing the suite and its pinned dependencies (requirements.lock) into .venv"
  free_gb=$(df -Pk . | awk 'NR==2 {print int($4 / 1048576)}')
  echo "setup: ${free_gb} GB free here; the environment takes about 7 GB"
  [ "$free_gb" -ge 8 ] || echo "setup: warning: less than 8 GB free, the install may run out of disk" >&2
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir)
  "${pip[@]}" --upgrade pip
  # the heavy wheels (PyTorch's CUDA libraries, triton, torch, torchvision: about 6 GB installed) one at a time,
  # so that the disk never holds all their downloads and the installed files at once; no pip cache either
  for req in $(grep -E '^(nvidia-[a-z0-9-]+|triton|torch|torchvision)==' requirements.lock); do
    echo "setup: installing $req"
    "${pip[@]}" --no-deps "$req"
  done
  "${pip[@]}" -c requirements.lock -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# SCALE-Sim (the simulated systolic array of bench/hardware/systolic.py) in its own environment: scalesim 3.0.0
# needs numpy < 2, which the suite's torch stack does not use (about 40 s and 500 MB the first time)
lock=bench/hardware/systolic_requirements.lock
sstamp=".venv-scalesim/.installed-$(sha256sum "$lock" | cut -c1-16)"
if [ ! -f "$sstamp" ]; then
  echo "setup: installing SCALE-Sim into .venv-scalesim ($lock)"
  [ -x .venv-scalesim/bin/python ] || "$python" -m venv .venv-scalesim
  .venv-scalesim/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir -r "$lock"
  rm -f .venv-scalesim/.installed-*
  touch "$sstamp"
fi

remote=$(.venv/bin/dvc remote list | awk '{print $2}' | head -n 1)
if [ ! -d ".dvc/$remote" ] && [ ! -d "$remote" ]; then
  echo "setup: the DVC remote ($remote, relative to .dvc/) is missing: put the shared folder beside this" \
       "checkout (../shared/dvc-remote), or see README 'Data' for the canonical files" >&2
  exit 1
fi
echo "setup: pulling datasets with dvc (remote $remote)"
.venv/bin/dvc pull --quiet
echo "setup: done ($(du -sh datasets | cut -f1) of data in datasets/)"
