"""A wheel built from the repository, installed into a fresh virtualenv from the package index: it classifies
at once (the model ships inside), serves, and with the training extra trains. What a user does with a wheel,
away from the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.router import free_port

ROOT = Path(__file__).resolve().parents[2]


def sh(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 600,
       cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist", ROOT)
    (wheel,) = (work / "dist").glob("ccr-*.whl")
    sh(sys.executable, "-m", "venv", work / "venv")
    sh(work / "venv/bin/pip", "install", "--quiet", wheel)
    return work


def test_the_wheel_classifies_serves_and_trains(venv: Path, tmp_path: Path) -> None:
    bin_ = venv / "venv/bin"
    env = {"CCR_HOME": str(tmp_path / "home"), "CCR_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": "",
           "CCR_DATA_DIR": ""}
    env = {k: v for k, v in env.items() if v} | {"PATH": f"{bin_}:{os.environ['PATH']}"}
    clean = {k: v for k, v in os.environ.items() if k not in ("CCR_DATA_DIR", "PYTHONPATH")}
    light = [m for m in ("torch", "sklearn", "sentence_transformers", "transformers")
             if subprocess.run([bin_ / "python", "-c", f"import {m}"], capture_output=True).returncode == 0]
    assert light == [], "the router's own install must not bring the training stack"
    started = time.monotonic()
    answer = json.loads(sh(bin_ / "ccr", "classify", "add a --dry-run flag to the sync script",
                           env={**clean, **env}, cwd=tmp_path).stdout)
    first_classify_s = time.monotonic() - started
    assert answer["task_type"] == "generate" and "uncertain" in answer
    print(f"\nfirst `ccr classify` from a fresh install: {first_classify_s:.1f} s")

    port = free_port()
    sh(bin_ / "ccr", "start", "--port", str(port), env={**clean, **env}, cwd=tmp_path)
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health["status"] == "ok" and health["classifier"]["state"] in ("loading", "ready")
    finally:
        sh(bin_ / "ccr", "stop", env={**clean, **env}, cwd=tmp_path)

    # the training extra (the CPU build of torch first, as the README says)
    sh(bin_ / "pip", "install", "--quiet", "torch==2.13.0", timeout=900)
    (wheel,) = (venv / "dist").glob("ccr-*.whl")
    sh(bin_ / "pip", "install", "--quiet", f"{wheel}[train]", timeout=900)
    # embeddings of the seed prompts come from the machine's cache when the suite has filled it (tests/ml does)
    cached = {k: v for k, v in env.items() if k != "CCR_CACHE_DIR"}
    trained = sh(bin_ / "ccr", "train", "--seed-only", "--force", env={**clean, **cached}, cwd=tmp_path, timeout=900)
    assert "activated" in trained.stdout + trained.stderr
