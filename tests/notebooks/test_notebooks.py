"""Every notebook runs, top to bottom, on a sample log that the real router wrote (notebooks/make_sample_db.py),
and draws its plots. A notebook that breaks fails CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    done = subprocess.run([sys.executable, str(NOTEBOOKS[0].parent / "make_sample_db.py"), "--out", str(out),
                           "--sessions", "60"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "requests over 30 days" in done.stderr
    return out


def test_the_sample_database_looks_like_real_use(sample: Path) -> None:
    import duckdb

    con = duckdb.connect(str(sample / "ccr.duckdb"), read_only=True)
    try:
        days, requests, classified = con.execute(
            "SELECT count(DISTINCT CAST(ts AS DATE)), count(*), count(task_type) FROM decisions").fetchone()
        signals = {r[0] for r in con.execute("SELECT DISTINCT signal FROM decisions").fetchall()}
        fallbacks = con.execute("SELECT count(*) FROM outcomes WHERE fallback_hops > 0").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM decisions d ANTI JOIN outcomes o USING (request_id)").fetchone()[0]
    finally:
        con.close()
    assert days >= 10 and requests >= 200 and classified == requests
    assert {"policy", "sticky", "explicit", "background"} <= signals
    assert fallbacks > 0 and orphans == 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_and_plots(notebook: Path, sample: Path) -> None:
    import nbclient
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    env_before = dict(os.environ)
    os.environ["CCR_NOTEBOOK_DB"] = str(sample / "ccr.duckdb")  # the kernel inherits it
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 8, f"{notebook.name} drew {len(images)} plots"
