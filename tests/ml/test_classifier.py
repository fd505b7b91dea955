"""The classifier on its own: the seed set's shape, the fixed split, accuracy on the validation split and on the
independently written held-out set (reported, and held to floors), deterministic training, offline loading,
what is classified, and the `ccr classify` / `ccr eval` commands."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier.dataset import DataError, heldout_file, is_validation, load_jsonl, load_seed, split
from classifier.evaluate import score
from classifier.features import STRUCTURAL_NAMES, Conversation, embedding_text, structural
from classifier.model import LENGTH_COLUMN, Heads, base
from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES
from router.paths import repo_data_dir

# floors under the measured figures (README, "The classifier"): a change that loses more fails
# the seed set has a flat mix of task types; the shipped model expects real traffic's (generate and explain first),
# which costs it some macro-F1 on the flat mix and buys it accuracy on real prompts (REAL_FLOORS below)
# held-out complexity was held to 0.70 (measured 0.72): with real prompts counted four times and the targeted set's
# complexity labels (agent commands, mostly medium or high) it measures 0.68 on this project's style, while
# complexity on real prompts stays 0.55 (first set) and rose to 0.61 (both sets): the floor follows, 0.66; the
# agent sessions' complexity labels moved the seed split's complexity to 0.63 (from 0.67); split by developer
# rather than by prompt (other owners' labels in training), 0.61 and held-out 0.66: floors 0.60 and 0.64
VALIDATION_FLOORS = {"task_type": 0.84, "complexity": 0.60}
HELDOUT_FLOORS = {"task_type": 0.87, "complexity": 0.64}


def test_the_seed_set_covers_every_label_with_real_variety() -> None:
    seed = load_seed()
    assert len(seed) >= 2000
    grid = collections.Counter((ex.task_type, ex.complexity) for ex in seed)
    for task in TASK_NAMES:
        assert sum(grid[(task, c)] for c in COMPLEXITY_NAMES) >= 120, task
        for level in COMPLEXITY_NAMES:
            assert grid[(task, level)] >= 10, (task, level)
    prompts = [ex.prompt.strip().lower() for ex in seed]
    assert len(set(prompts)) == len(prompts), "duplicate prompts"
    assert len({ex.id for ex in seed}) == len(seed)
    lengths = sorted(len(p) for p in prompts)
    assert sum(n < 60 for n in lengths) > len(seed) * 0.1 and sum(n > 400 for n in lengths) > len(seed) * 0.15
    # no template: no 4-word opening shared by more than 1% of the prompts
    openings = collections.Counter(" ".join(p.split()[:4]) for p in prompts)
    assert openings.most_common(1)[0][1] <= len(seed) * 0.01, openings.most_common(3)


def test_the_held_out_set_is_separate_and_complete() -> None:
    heldout = load_jsonl(repo_data_dir() / "heldout.jsonl", "heldout")
    assert len(heldout) >= 300
    assert {ex.task_type for ex in heldout} == set(TASK_NAMES)
    seed_prompts = {ex.prompt.strip().lower() for ex in load_seed()}
    assert not [ex.id for ex in heldout if ex.prompt.strip().lower() in seed_prompts]


def test_the_split_is_fixed_by_id() -> None:
    train, val = split(load_seed())
    assert 0.15 < len(val) / (len(train) + len(val)) < 0.25
    assert all(is_validation(ex.id) for ex in val) and not any(is_validation(ex.id) for ex in train)
    assert is_validation("web-0005") == is_validation("web-0005")  # a function of the id alone


def _score(default_model: Any, examples: list[Any]) -> dict[str, Any]:
    from classifier.train import evaluate

    embedder, heads, _ = default_model
    return evaluate(heads, examples, embedder)


def test_accuracy_on_the_validation_split_and_the_held_out_set(default_model: Any) -> None:
    val = _score(default_model, split(load_seed())[1])
    heldout = _score(default_model, load_jsonl(repo_data_dir() / "heldout.jsonl", "heldout"))
    figures = {name: (val[name]["macro_f1"], heldout[name]["macro_f1"]) for name in VALIDATION_FLOORS}
    print("macro-F1 (validation, held-out):", figures)
    for name, floor in VALIDATION_FLOORS.items():
        assert val[name]["macro_f1"] >= floor, (name, figures)
    for name, floor in HELDOUT_FLOORS.items():
        assert heldout[name]["macro_f1"] >= floor, (name, figures)
    _, _, meta = default_model
    assert meta["heldout"]["task_type"]["macro_f1"] == heldout["task_type"]["macro_f1"]  # what training recorded


def test_training_is_deterministic(default_model: Any) -> None:
    from classifier.model import Heads
    from classifier.train import matrix

    embedder, _, _ = default_model
    examples = split(load_seed())[0][:400]
    X = matrix(examples, embedder)
    one, two = Heads().fit(X, examples), Heads().fit(X, examples)
    assert all(np.array_equal(a, b) for a, b in zip(one.task[-1].coefs_, two.task[-1].coefs_, strict=True))
    assert np.array_equal(one.complexity[-1].coef_, two.complexity[-1].coef_)
    assert [p.to_dict() for p in one.predict(X[:50])] == [p.to_dict() for p in two.predict(X[:50])]


def test_the_routers_array_heads_give_scikit_learns_probabilities(default_model: Any) -> None:
    from classifier.linear import LinearHeads
    from classifier.train import matrix

    embedder, _, _ = default_model
    train, val = split(load_seed())
    heads = Heads().fit(matrix(train[:800], embedder), train[:800])
    assert heads.ngram_weight > 0  # the rows carry the n-gram map's logits, and the task head adds them
    X = matrix(val[:300], embedder)
    task_p, tasks, level_p, levels, strong_p = LinearHeads.from_sklearn(heads).probabilities(X)
    assert tasks == list(heads.task.classes_) and levels == list(heads.complexity.classes_)
    z = heads.task_logits(X)
    assert np.abs(task_p - np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).max() < 1e-6
    assert np.abs(level_p - heads.complexity.predict_proba(base(X))).max() < 1e-6
    assert np.abs(strong_p - heads.difficulty.predict_proba(base(X))[:, 1]).max() < 1e-6
    ours, theirs = LinearHeads.from_sklearn(heads).predict(X), heads.predict(X)
    assert [(p.task_type, p.complexity) for p in ours] == [(p.task_type, p.complexity) for p in theirs]


def test_the_routers_array_heads_give_the_experts_probabilities(default_model: Any) -> None:
    from classifier.linear import LinearHeads
    from classifier.model import CODING_TASKS, REASONING
    from classifier.public import (
        CLASSEVAL_FILE,
        CODING_FILE,
        REASONING_FILE,
        coding_examples,
        exam_examples,
        load_outcomes,
    )
    from classifier.train import matrix

    embedder, _, _ = default_model
    train, val = split(load_seed())
    maths = exam_examples(load_outcomes(evaluation=False, file=REASONING_FILE))
    assert maths.examples[0].source == REASONING
    # each source split at its own median (ARC: its Challenge set), not at the pooled file's
    gsm = [ex for ex in maths.examples if ex.id.startswith("gsm8k")]
    assert 0.45 < np.mean([ex.strong for ex in gsm]) < 0.55
    code = coding_examples(load_outcomes(evaluation=None, file=CLASSEVAL_FILE))
    assert code.examples[0].source == CODING_TASKS and 0.45 < np.mean([ex.strong for ex in code.examples]) < 0.55
    X = np.vstack([matrix(train[:600], embedder), maths.X[:600], code.X])
    heads = Heads().fit(X, train[:600] + maths.examples[:600] + code.examples)
    assert heads.reasoning is not None and heads.maths_gate is not None and heads.coding is not None
    held = load_outcomes(evaluation=True, file=REASONING_FILE)
    questions = load_outcomes(evaluation=None, file=CODING_FILE)  # coding questions: most carry code, some not
    Xv = np.vstack([matrix(val[:200], embedder), held.X[:200], questions.X])
    strong_p = LinearHeads.from_sklearn(heads).probabilities(Xv)[4]
    assert np.abs(strong_p - heads.strong_probability(Xv)).max() < 1e-6
    # the gate tells exam questions from the seed prompts
    gate = heads.maths_gate.predict_proba(base(Xv))[:, 1]
    assert gate[200:400].mean() > 0.8 and gate[:200].mean() < 0.2


@pytest.mark.parametrize(("has_code", "chars", "moves"), [
    (False, 60, "no"), (False, 4000, "no"),  # without code the judged probability stands, whatever the length
    (True, 136, "no"),  # code, at the median developer prompt's length: only the judged logit's weight changes it
    (True, 40, "down"), (True, 4000, "up"),  # shorter coding work is easier, longer harder
])
def test_the_coding_expert_orders_prompts_with_code_by_length(has_code: bool, chars: int, moves: str) -> None:
    from classifier.model import CODE_COLUMN, CODING_CENTER, LENGTH_COLUMN, CodingExpert

    expert = CodingExpert(a=1.0, b=12.0, center=CODING_CENTER)
    X = np.zeros((1, CODE_COLUMN + 1))
    X[0, CODE_COLUMN], X[0, LENGTH_COLUMN] = float(has_code), np.log1p(chars) / 8
    p = float(expert.mix(np.array([0.4]), X)[0])
    assert {"no": abs(p - 0.4) < 1e-9, "down": p < 0.3, "up": p > 0.9}[moves], p


def test_the_embedding_model_loads_offline(tmp_path: Path) -> None:
    """No hub, no network: every address a download could use points at a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
               HF_HOME=str(tmp_path / "hf"))
    code = ("from classifier.embed import Embedder; v = Embedder().encode(['fix the failing test']); "
            "import numpy; print(v.shape, round(float(numpy.linalg.norm(v[0])), 3))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 384) 1.0"
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.safetensors"))


@pytest.mark.parametrize(("prompt", "expected"), [
    ("short question?", "short question?"),
    ("fix this:\n```py\n" + "x = 1\n" * 300 + "```\nit crashes", "fix this:\n [code] \nit crashes"),
])
def test_the_embedding_reads_the_prose(prompt: str, expected: str) -> None:
    assert embedding_text(prompt) == expected


def test_a_long_prompt_keeps_its_head_and_tail() -> None:
    log = "ERROR something\n" * 500
    text = embedding_text("here is my log\n" + log + "why does the worker die?")
    assert text.startswith("here is my log") and text.endswith("why does the worker die?") and len(text) < 1300


def test_structural_features() -> None:
    trace = 'Traceback (most recent call last):\n  File "app/main.py", line 3\nKeyError: x\nsee src/db.py?'
    features = dict(zip(STRUCTURAL_NAMES, structural(trace, Conversation(depth=3, tool_rounds=0, context_tokens=5000)),
                        strict=True))
    assert features["trace"] == 1.0 and features["question"] == 1.0 and features["code"] == 0.0
    assert features["files"] == pytest.approx(np.log1p(2) / 2)
    assert features["depth"] == pytest.approx(np.log1p(3) / 3)
    assert structural("plain words")[3] == 0.0
    maths = dict(zip(STRUCTURAL_NAMES, structural("Solve 3x + 5 = 20, then compute x^2. Explain each step?"), strict=True))
    assert maths["math"] > 0 and maths["digits"] > 0 and maths["constraints"] > 0 and maths["questions"] > 0
    assert dict(zip(STRUCTURAL_NAMES, structural("hello there"), strict=True))["math"] == 0.0


@pytest.mark.parametrize(("prompt", "readable"), [
    ("fix the login test", True),
    ("corrige la fonction de déconnexion, ça plante", True),  # accents are Latin script
    ("rename 张伟 to zhang wei in the user table", True),  # a name in another script
    ("```py\n# 中文注释\nx = 1\n```\nwhy does this fail?", True),  # only the code has it: the prose is read
    ("12345 …", False),  # no word at all: nothing to read (so too empty and punctuation-only prompts)
    ("", False),
    ("  \n ", False),
    ("还是一样的错误，请你对比一下application-dev.yml和application-test.yml", False),  # file names do not make it English
    ("请帮我修复这个bug in the login module", False),
    ("ログイン画面のバグを直してください", False),
    ("Исправь ошибку в парсере", False),
    ("Ελέγξτε τον κώδικα", False),
])
def test_what_the_embedding_model_can_read(prompt: str, readable: bool) -> None:
    from classifier.features import readable as can_read

    assert can_read(prompt) is readable


def test_a_prompt_it_cannot_read_is_flagged_uncertain(default_model: Any) -> None:
    from classifier.train import predict_texts

    embedder, heads, _ = default_model
    english, chinese = predict_texts(heads, embedder, ["write a python function that merges two sorted lists",
                                                       "请帮我写一个合并两个有序列表的函数"])
    assert chinese.uncertain and chinese.task_type in TASK_NAMES  # the best guess stays, flagged
    assert not english.uncertain and english.task_type == "generate"


@pytest.mark.parametrize(("line", "problem"), [
    ('{"id": "a", "prompt": "x", "task_type": "fix"}', "task_type: must be one of generate, debug"),
    ('{"id": "a", "prompt": "x", "complexity": "huge"}', "complexity: must be one of low, medium, high, got 'huge'"),
    ('{"id": "a", "prompt": "x", "strong": "yes"}', "strong: must be true or false"),
    ('{"id": "a"}', 'each line needs a "prompt" string'),
    ("{not json", "not JSON"),
])
def test_a_bad_labelled_file_names_its_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "prompt": "fine", "task_type": "debug"}\n' + line + "\n")
    with pytest.raises(DataError) as err:
        load_jsonl(path)
    assert f"{path}:2: " in str(err.value) and problem in str(err.value)


def _ccr(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", *args], capture_output=True, text=True, timeout=300,
                          input=stdin)


def test_ccr_classify_prints_json(default_model: Any) -> None:
    done = _ccr("classify", "the login test fails with a 500 since the last merge, find out why")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"task_type", "complexity", "difficulty", "uncertain", "probabilities"}
    assert result["uncertain"] == (result["probabilities"]["task_type"][result["task_type"]] < 0.5)
    assert result["task_type"] in TASK_NAMES and result["complexity"] in COMPLEXITY_NAMES
    assert 0 <= result["difficulty"] <= 1
    assert set(result["probabilities"]["task_type"]) == set(TASK_NAMES)


def test_ccr_classify_scores_a_file(tmp_path: Path, default_model: Any) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "prompt": p}) + "\n" for i, p in enumerate(
        ["write a README for this repo", "what's 17 * 23", "add a unit test for parse_date"])))
    done = _ccr("classify", "--input", str(src), "--output", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == [0, 1, 2]
    assert all({"task_type", "complexity", "difficulty", "probabilities"} <= set(line) for line in lines)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "no id"}\n')
    done = _ccr("classify", "--input", str(bad))
    assert done.returncode == 1 and 'bad.jsonl:1: each line needs "id" and a "prompt" string' in done.stderr


def test_labels_without_complexity_are_scored_on_task_type_alone(default_model: Any) -> None:
    """`ccr label` may give a task type only; `ccr eval --data` and `ccr train`'s own validation score such
    files on what they label (they failed on an empty complexity head)."""
    import dataclasses

    from classifier.evaluate import render
    from classifier.train import predict_texts

    embedder, heads, _ = default_model
    examples = [dataclasses.replace(ex, complexity=None) for ex in load_jsonl(heldout_file(), "heldout")[:60]]
    report = score(examples, predict_texts(heads, embedder, [ex.prompt for ex in examples]))
    assert "complexity" not in report and report["task_type"]["accuracy"] > 0.6
    assert "complexity: no labels" in render(report, "labels")


def test_ccr_eval_prints_per_class_scores_and_a_confusion_matrix(tmp_path: Path, default_model: Any) -> None:
    done = _ccr("eval")
    assert done.returncode == 0, done.stderr
    assert "seed set, validation split (written here; model default)" in done.stdout
    assert "real prompts written outside this project, evaluation half" in done.stdout
    assert "only the first set (chat questions, issues, an agent's history)" in done.stdout
    assert "only developers' instructions to coding agents" in done.stdout
    assert "difficulty within exam questions" in done.stdout and "arc_challenge_vs_easy" in done.stdout
    assert "calibration error" in done.stdout and "APGR" in done.stdout
    assert "macro-F1" in done.stdout and "confusion (rows: truth, columns: predicted)" in done.stdout
    for task in TASK_NAMES:
        assert f"\n  {task:<10} " in done.stdout
    assert "held-out set at training time" in done.stdout
    labelled = tmp_path / "mine.jsonl"
    labelled.write_text(json.dumps({"id": "1", "prompt": "explain closures in JS", "task_type": "explain",
                                    "complexity": "low", "strong": False}) + "\n")
    done = _ccr("eval", "--data", str(labelled), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["examples"] == 1
    done = _ccr("eval", "--data", str(tmp_path / "missing.jsonl"))
    assert done.returncode == 1 and "No such file" in done.stderr


def test_the_numpy_port_gives_sentence_transformers_embeddings() -> None:
    from classifier.embed import Embedder, fast

    texts = ["fix the bug in my parser", "Traceback (most recent call last):\n  KeyError: 'id'\nwhy?",
             "ça ne marche pas, 为什么?", "word " * 600]  # the last one is cut at 256 tokens by both
    reference, ported = Embedder().encode(texts), fast().encode(texts)
    assert np.abs(reference - ported).max() < 1e-5


def test_the_router_classifies_without_torch_or_scikit_learn(default_model: Any) -> None:
    code = ("import sys, time; from classifier.runtime import Classifier; c = Classifier(); c.start()\n"
            "while c.state == 'loading': time.sleep(0.05)\n"
            "from classifier.features import Conversation; c._predict('fix the flaky test', Conversation())\n"
            "print(c.state, [m for m in ('torch', 'transformers', 'sentence_transformers', 'sklearn', 'scipy')"
            " if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ready []", done.stderr


@pytest.mark.parametrize(("args", "env", "message"), [
    (("classify", "--input", "/nonexistent/in.jsonl"), {}, "ccr: /nonexistent/in.jsonl: No such file or directory"),
    (("classify",), {}, "give a prompt, or --input FILE.jsonl"),
    (("train", "--seed-only"), {"CCR_DATA_DIR": "/nonexistent"}, "no seed data in /nonexistent/seed"),
    (("eval",), {"CCR_DATA_DIR": "/nonexistent"}, "no seed data in /nonexistent/seed"),
    (("label", "--limit", "0"), {}, "must be a whole number from 1"),
    (("label", "p_x", "--task-type", "fixing"), {}, "task_type: must be one of generate"),
])
def test_cli_mistakes_get_a_clear_message(args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "router", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_no_feature_is_weighed_by_its_own_float_noise(default_model: Any) -> None:
    """Three of all-MiniLM-L6-v2's dimensions are zero up to float noise (about 1e-33 and 1e-8): a plain
    StandardScaler divided by that noise and the heads weighed them by up to 1e32, so 5% of labels moved with the
    embedding's last bits. With the scaler's floor every folded weight is small, and noise of that size in those
    dimensions leaves every probability as it was."""
    import sklearn.preprocessing

    from classifier.scaling import SCALE_FLOOR, FlooredScaler
    from classifier.train import matrix

    embedder, heads, _ = default_model
    for name, array in heads.arrays.items():
        if array.dtype.kind == "f":
            assert np.abs(array).max() < 100, name
    X = matrix(load_jsonl(heldout_file(), "heldout")[:60], embedder)
    dead = np.flatnonzero(np.abs(X[:, :384]).max(axis=0) < 1e-6)
    assert len(dead) >= 1  # the model's quiet dimensions are still there: the test still tests something
    noisy = X.copy()
    noisy[:, dead] += np.random.default_rng(0).normal(0, 1e-7, (len(X), len(dead)))
    for ours, theirs in zip(heads.probabilities(X), heads.probabilities(noisy), strict=True):
        if isinstance(ours, np.ndarray):
            assert np.abs(ours - theirs).max() < 1e-4
    column = np.random.default_rng(1).normal(0, 1e-33, (50, 1))
    assert sklearn.preprocessing.StandardScaler().fit(column).scale_[0] < 1e-30  # what the floor is for
    assert FlooredScaler().fit(column).scale_[0] == SCALE_FLOOR
    wide = np.random.default_rng(2).normal(0, 0.03, (50, 1))
    assert FlooredScaler().fit(wide).scale_[0] == sklearn.preprocessing.StandardScaler().fit(wide).scale_[0]


def test_the_shipped_model_matches_a_fresh_training_run(default_model: Any, tmp_path: Path) -> None:
    """data/model is what `python -m classifier.ship` trains from the repository's data: retraining it here gives
    the same answers (within a tolerance for the floating-point order of another machine's BLAS)."""
    from classifier.model import load_inference
    from classifier.train import matrix, shipped_dir, train_default

    embedder, shipped, meta = default_model
    fresh_meta = train_default(tmp_path, embedder)
    assert fresh_meta["data_hash"] == meta["data_hash"], "the training data changed: run python -m classifier.ship"
    fresh, _ = load_inference(tmp_path)
    X = matrix(load_jsonl(heldout_file(), "heldout"), embedder)
    ours, theirs = shipped.probabilities(X), fresh.probabilities(X)
    for a, b in ((ours[0], theirs[0]), (ours[2], theirs[2]), (ours[4], theirs[4])):
        assert np.abs(a - b).max() < 0.02
    assert (shipped_dir() / "heads.npz").stat().st_size < 2_000_000  # numbers only: no pickled estimators


# what the shipped model scores on the evaluation halves of the public data (README, "The classifier"): floors a
# little under the figures, so that a change that makes them worse fails here
REAL_FLOORS = {"accuracy": 0.67, "macro_f1": 0.56, "calibration_error_max": 0.04}
# the same on the prompts taken as their sources had them (the evaluation half before the targeted set existed)
TRAFFIC_FLOORS = {"accuracy": 0.72, "macro_f1": 0.56, "calibration_error_max": 0.06}
# and on developers' instructions to coding agents (data/real/extract_sessions.py): follow-ups without their
# session, the hardest set (the model before them scored 0.44 / 0.32 here; 0.59 / 0.44 now that its halves are
# split by developer: 0.66 / 0.52 split by prompt flattered it with each developer's style on both sides)
SESSIONS_FLOORS = {"accuracy": 0.57, "macro_f1": 0.42, "calibration_error_max": 0.07}
# and on what developers typed to ChatGPT (data/real/extract_wildchat.py; its first 364 scored 0.66 / 0.33 before
# any of them trained the model; 0.72 / 0.55 now on the 1,020 of its three parts, split by conversation):
# macro-F1 is low and unsteady there (0.49 to 0.55 between trainings), with test, document, review and refactor at
# a few prompts each
WILDCHAT_FLOORS = {"accuracy": 0.70, "macro_f1": 0.49, "calibration_error_max": 0.05}


def test_real_prompts_nobody_here_wrote(default_model: Any) -> None:
    from classifier.public import SESSIONS, WILDCHAT, load_real

    _, heads, _ = default_model
    real = load_real(evaluation=True)
    assert len(real.examples) >= 700
    report = score(real.examples, heads.predict(real.X))["task_type"]
    print("real prompts:", {k: report[k] for k in ("accuracy", "macro_f1", "calibration_error", "uncertain_share")})
    assert report["accuracy"] >= REAL_FLOORS["accuracy"] and report["macro_f1"] >= REAL_FLOORS["macro_f1"]
    assert report["calibration_error"] <= REAL_FLOORS["calibration_error_max"]
    # the flag means something: the prompts it leaves alone are labelled better than the rest
    assert report["accuracy_when_certain"] > report["accuracy"] + 0.03 and 0.05 < report["uncertain_share"] < 0.5
    for sources, count, floors in ((("real",), 737, TRAFFIC_FLOORS), ((SESSIONS,), 908, SESSIONS_FLOORS),
                                   ((WILDCHAT,), 1020, WILDCHAT_FLOORS)):
        part = load_real(evaluation=True, sources=sources)
        assert len(part.examples) == count
        report = score(part.examples, heads.predict(part.X))["task_type"]
        assert report["accuracy"] >= floors["accuracy"] and report["macro_f1"] >= floors["macro_f1"], sources
        assert report["calibration_error"] <= floors["calibration_error_max"], sources


def test_difficulty_beats_prompt_length_on_public_outcomes(default_model: Any) -> None:
    from classifier.evaluate import apgr
    from classifier.public import load_outcomes

    _, heads, meta = default_model
    held = load_outcomes(evaluation=True)
    ours = apgr([p.difficulty for p in heads.predict(held.X)], held.strong_score, held.weak_score)
    length = apgr(held.X[:, LENGTH_COLUMN], held.strong_score, held.weak_score)
    assert ours == meta["public"]["outcomes"]["apgr"] and ours > length and ours >= 0.51
    # per source: the Arena bench (fixed pairs and many models) is where the head beats length clearly; on the
    # AlpacaEval sources it is within noise of length (README, "Outcomes"). (The coding expert cost the Arena rows
    # 0.01: two of their 71 prompts carry code, 1,259 and 1,532 characters, and weak models did as well on them.)
    sources = meta["public"]["outcomes"]["sources"]
    assert set(sources) == {"alpacaeval1_vs_davinci", "alpacaeval2_direct", "alpacaeval_cot_direct", "arenabench_v1",
                            "ae1_many", "ae2_many", "arena_many"}
    for name in ("arenabench_v1", "arena_many"):
        assert sources[name]["apgr"] >= 0.54 and sources[name]["apgr"] > sources[name]["apgr_length"] + 0.05


def test_difficulty_orders_exam_questions_better_than_length(default_model: Any) -> None:
    """Within exam questions the judged-outcome head was blind (maths problems by steps: chance; ARC's Challenge
    against its Easy questions: below chance); the exam expert orders held-out ones better than prompt length does
    on GSM8K's train problems and on ARC's questions, and ties it on AQuA's (103 problems: within noise)."""
    from classifier.evaluate import apgr
    from classifier.model import with_expert
    from classifier.public import REASONING_FILE, load_outcomes

    _, heads, meta = default_model
    held = load_outcomes(evaluation=True, file=REASONING_FILE)
    assert len(held.ids) >= 2000
    sources = meta["public"]["reasoning"]
    assert set(sources) == {"gsm8k_train_steps", "aqua_rationale_steps", "arc_challenge_vs_easy"}
    gsm_rows = ~np.isnan(held.source_strong[:, list(held.sources).index("gsm8k_train_steps")])
    difficulty = np.asarray([p.difficulty for p in heads.predict(held.X[gsm_rows])])
    assert apgr(difficulty, held.strong_score[gsm_rows], held.weak_score[gsm_rows]) == \
        sources["gsm8k_train_steps"]["apgr"]  # what training recorded
    for name, floor in (("gsm8k_train_steps", 0.56), ("arc_challenge_vs_easy", 0.58)):
        assert sources[name]["apgr"] >= floor and sources[name]["apgr"] > sources[name]["apgr_length"] + 0.01, name
    assert sources["aqua_rationale_steps"]["apgr"] >= 0.52
    # the gate mixes: no exam question keeps the judged head's probability, a certain one gets the expert's
    p = np.array([0.2, 0.5, 0.9])
    expert = np.array([-5.0, 0.0, 5.0])
    assert np.allclose(with_expert(p, np.zeros(3), expert), p)
    assert np.allclose(with_expert(p, np.ones(3), expert), 1 / (1 + np.exp(-expert)))
    half = with_expert(np.full(3, 0.5), np.full(3, 0.5), expert)
    assert np.all(np.diff(half) > 0) and half[1] == 0.5


def test_difficulty_on_coding_work_beats_length_on_questions_nobody_trained_on(default_model: Any) -> None:
    """InfiBench's 135 coding questions with GPT-4's and GPT-3.5's graded answers evaluate difficulty on coding
    work; training never reads them. The coding expert learned from ClassEval's tasks (the share of their tests
    GPT-4-Turbo's code and five open models' code pass), which every training run reads. The judged head alone
    ordered the questions at 0.506, prompt length at 0.587 (one standard deviation of a random order: 0.06)."""
    from classifier.evaluate import apgr
    from classifier.public import CLASSEVAL_FILE, CODING_FILE, load_outcomes
    from classifier.train import base_rows

    embedder, heads, meta = default_model
    coding = load_outcomes(evaluation=None, file=CODING_FILE)
    assert len(coding.ids) == 135 and coding.strong_score.mean() > coding.weak_score.mean() + 0.1
    assert len(load_outcomes(evaluation=True, file=CODING_FILE).ids) < 135  # `None` is every row, not one side
    ours = apgr([p.difficulty for p in heads.predict(coding.X)], coding.strong_score, coding.weak_score)
    recorded = meta["public"]["coding"]
    assert ours == recorded["infibench_gpt4_vs_gpt35"]["apgr"] and recorded["infibench_gpt4_vs_gpt35"]["prompts"] == 135
    assert ours >= 0.6 and ours > recorded["infibench_gpt4_vs_gpt35"]["apgr_length"]
    tasks = load_outcomes(evaluation=None, file=CLASSEVAL_FILE)
    assert recorded["classeval_gpt4turbo_vs_open"]["prompts"] == len(tasks.ids) == 98
    assert recorded["classeval_gpt4turbo_vs_open"]["apgr"] >= 0.6  # its training data: a check that it learned
    one = load_jsonl(heldout_file(), "heldout")[:1]
    trained_on = {ex.id for ex in base_rows(one, embedder)[1]}  # and the public rows every training run adds
    assert len(trained_on) > 10_000 and not trained_on & set(coding.ids) and set(tasks.ids) <= trained_on


def test_strong_share_is_read_from_real_traffic(default_model: Any) -> None:
    """`Policy.strongShare` picks its threshold from the difficulty of real prompts as they were sent (the
    evaluation halves of the first set, the agent sessions and the ChatGPT requests); a model trained before that
    falls back to the seed split."""
    from classifier.model import threshold_for_share
    from classifier.public import SESSIONS, WILDCHAT, load_real

    _, heads, meta = default_model
    real = load_real(evaluation=True, sources=("real", SESSIONS, WILDCHAT))
    difficulty = np.asarray([p.difficulty for p in heads.predict(real.X)])
    assert abs(float((difficulty >= threshold_for_share(meta, 0.25)).mean()) - 0.25) < 0.01
    seed_only = {"metrics": {"difficulty_quantiles": [i / 100 for i in range(101)]}}
    assert threshold_for_share(seed_only, 0.25) == 0.75 and threshold_for_share(seed_only, 1.5) == 0.0


def test_exam_questions_are_ranked_by_steps_per_source() -> None:
    from classifier.public import reasoning_arrays

    rows = [{"id": "a", "source": "gsm", "steps": 2}, {"id": "b", "source": "gsm", "steps": 5},
            {"id": "c", "source": "aqua", "steps": 1}, {"id": "d", "source": "aqua", "steps": 1},
            {"id": "e", "source": "arc", "steps": 0}, {"id": "f", "source": "arc", "steps": 1},
            {"id": "g", "source": "arc", "steps": 0}]
    arrays = reasoning_arrays(rows)
    assert list(arrays["sources"]) == ["aqua", "arc", "gsm"]
    # ties share their rank; a source of 0s and 1s (ARC's Easy and Challenge sets) is a split: the weak side
    # fails the hard side and solves the rest
    assert arrays["target"].tolist() == [0.25, 0.75, 0.5, 0.5, 0.0, 1.0, 0.0]
    assert arrays["strong_needed"].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert np.isnan(arrays["source_strong"][0, 0]) and arrays["source_weak"][1, 2] == 0.25
    assert arrays["source_weak"][4:, 1].tolist() == [1.0, 0.0, 1.0]


def test_outcome_target_ranks_each_source_and_averages() -> None:
    from classifier.public import _rank, outcome_arrays

    assert _rank(np.array([3.0, np.nan, 1.0, 1.0])).tolist()[0] == 5 / 6
    assert np.isnan(_rank(np.array([np.nan]))[0])
    rows = [{"id": i, "source": "pairs", "strong_score": 1.0, "weak_score": w} for i, w in (("a", 0.0), ("b", 1.0))]
    items = [{"id": i, "source": "many", "model": m, "score": v}
             for m, scores in (("good", (1.0, 1.0, 1.0)), ("bad", (0.0, 1.0, 0.5)), ("worse", (0.0, 0.5, 0.0)),
                               ("worst", (0.0, 0.0, 0.0)))
             for i, v in zip("abc", scores, strict=True)]
    arrays = outcome_arrays(["a", "b", "c"], rows, items)
    assert list(arrays["sources"]) == ["pairs", "many"]
    assert np.isnan(arrays["source_strong"][2, 0])  # "c" has no fixed pair
    # "a": the largest gain in both sources; "c" only in the many-model source, where it is second
    assert arrays["target"][0] > arrays["target"][2] > arrays["target"][1]


def test_apgr_of_known_orders() -> None:
    from classifier.evaluate import apgr

    strong, weak = [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]
    assert apgr([4, 3, 2, 1], strong, weak) > apgr([1, 2, 3, 4], strong, weak)
    assert apgr([1, 1, 1, 1], [1.0] * 4, [0.0] * 4) == 0.5  # every prompt gains alike: any order is random
    # equal scores are a random order whatever the file's order: the gains first or last make no difference
    assert apgr([1, 1, 1, 1], strong, weak) == apgr([1, 1, 1, 1], strong[::-1], weak) == 0.5
    # a binary score ranks its groups, and inside each the order is random
    assert apgr([1, 1, 0, 0], [1.0, 0.0, 1.0, 0.0], weak) == 0.5
    assert apgr([1, 1, 0, 0], [1.0, 1.0, 1.0, 0.0], weak) > 0.5
