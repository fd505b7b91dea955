"""The router's own install carries no torch, sentence-transformers, transformers or scikit-learn: with them made
unimportable, the router serves with its classifier and `ccr classify` answers, from the shipped model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "sentence_transformers", "transformers", "sklearn", "scipy", "joblib"}:
            raise ImportError(f"{name} is not part of the light install")
sys.meta_path.insert(0, Block())
"""


def run(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CCR_HOME": str(home), "CCR_CACHE_DIR": str(home / "cache")})


def test_classify_without_the_training_stack(tmp_path: Path) -> None:
    done = run("from router.cli.main import main; sys.exit(main(['classify', 'fix the failing test in utils.py']))",
               tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["task_type"] in answer["probabilities"]["task_type"] and 0 <= answer["difficulty"] <= 1
    assert not (tmp_path / "cache").exists()  # nothing trained or cached: the model ships with ccr


def test_the_router_serves_with_its_classifier_without_the_training_stack(tmp_path: Path) -> None:
    code = """
import time
from router.config import parse_config
from router.server.app import create_app
app = create_app(parse_config({"Providers": [], "Classifier": {"enabled": True}}))
state = app.state.ccr
state.classifier.start()
deadline = time.monotonic() + 60
while state.classifier.state == "loading" and time.monotonic() < deadline:
    time.sleep(0.05)
print(state.classifier.state, sorted(m for m in ("torch", "sklearn", "sentence_transformers") if m in sys.modules))
"""
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ready []"


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists packages explicitly (data/ installs as ccr_data): a new subpackage left off the list
    works in the repository and is missing from every installed copy."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for top in ("router", "classifier")
             for p in (root / top).rglob("__init__.py")}
    assert found - listed == set()
