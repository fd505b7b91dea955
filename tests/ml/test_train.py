"""`ccr train` and `ccr label`: labels derived from the logged history (overrides, escalations, retries, manual
labels) through a real router and DuckDB log; a worse model is kept but not activated; versions and rollback."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from classifier import versions
from classifier.dataset import heldout_file, load_jsonl, load_seed, split
from classifier.evaluate import headline
from classifier.model import NGRAM_WEIGHT
from classifier.train import SEED_SLACK, own_score, own_validation, retrain
from tests.ml.test_ml_routing import MODELS, answer, send
from tests.support.router import RouterServer
from tests.support.upstream import Received, Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]


def small_fails(status: int) -> Callable[[Received], Reply]:
    def script(r: Received) -> Reply:
        if r.body["model"] == "small":
            return Reply(status=status, body={"error": {"message": "failed", "type": "server_error"}})
        return answer(r)

    return script


def turn(router: RouterServer, session: str, *prompts: str, model: str = "claude-sonnet-4-5") -> None:
    """A new user turn whose earlier turns were `prompts[:-1]`."""
    messages: list[dict[str, Any]] = []
    for p in prompts[:-1]:
        messages += [{"role": "user", "content": p}, {"role": "assistant", "content": "ok"}]
    messages.append({"role": "user", "content": prompts[-1]})
    assert httpx.post(router.url + "/v1/messages", json={"model": model, "max_tokens": 50, "messages": messages},
                      headers={"x-claude-code-session-id": session}).status_code == 200


def test_labels_are_derived_from_overrides_escalations_retries_and_manual_labels(
        upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = answer
    router = make_router({
        "Providers": [{"name": "up", "api_base_url": f"{upstream.url}/v1/chat/completions", "api_key": "k",
                       "models": MODELS}],
        "Router": {"default": "up,small"}, "fallback": {"default": ["up,strong"]}, "retry": {"retries": 0}})
    # the user switches model: its tier says what they wanted; later turns on that model say nothing new
    turn(router, "o1", "rewrite the scheduler", model="up,strong")
    turn(router, "o1", "rewrite the scheduler", "and the queue too", model="up,strong")
    turn(router, "o2", "rename a variable", model="up,small")
    # the same prompt again as the next turn, after small answered: a retry; "yes" twice is not one
    turn(router, "r", "why is the cache stale")
    turn(router, "r", "why is the cache stale", "why is the cache stale")
    turn(router, "y", "yes")
    turn(router, "y", "yes", "yes")
    # small fails on the request itself (500), strong answers: an escalation; at capacity (503) it is not one
    upstream.script = small_fails(500)
    turn(router, "e", "port the parser to rust")
    upstream.script = small_fails(503)
    turn(router, "c", "port the lexer to rust")
    upstream.script = answer
    prompts = httpx.get(router.url + "/v1/ccr/prompts?limit=50").json()
    assert len(prompts) == 9
    for limit in ("0", "-1", "abc", "\u00b2", "10001", "9223372036854775808", "9" * 5000):  # none a 500
        refused = httpx.get(router.url + "/v1/ccr/prompts", params={"limit": limit})
        assert refused.status_code == 400, (limit[:30], refused.text)
        assert "limit: must be a whole number from 1 to 10000," in refused.json()["error"]["message"]
    manual = next(p for p in prompts if p["prompt"] == "rename a variable")
    label = {"prompt_id": manual["prompt_id"], "task_type": "refactor", "complexity": "low", "strong": False}
    assert httpx.post(router.url + "/v1/ccr/labels", json=label).json() == {"ok": True}
    bad = httpx.post(router.url + "/v1/ccr/labels", json={**label, "task_type": "fixing"})
    assert bad.status_code == 400 and "task_type: must be one of generate" in bad.json()["error"]["message"]
    unknown = httpx.post(router.url + "/v1/ccr/labels", json={**label, "prompt_id": "p_nope"})
    assert unknown.status_code == 404 and "no logged prompt p_nope" in unknown.json()["error"]["message"]
    derived = httpx.get(router.url + "/v1/ccr/training").json()
    assert sorted((d["prompt"], d["source"], d["task_type"], d["complexity"], d["strong"], d["depth"])
                  for d in derived) == [
        ("port the parser to rust", "escalation", None, None, True, 0),
        ("rename a variable", "manual", "refactor", "low", False, 0),  # a manual label beats the override
        ("rewrite the scheduler", "override", None, None, True, 0),
        ("why is the cache stale", "retry", None, None, True, 0),
    ]
    left = httpx.get(router.url + "/v1/ccr/prompts?limit=50").json()  # the labelled one is done
    assert manual["prompt_id"] not in {p["prompt_id"] for p in left} and len(left) == 8


def test_a_worse_model_is_kept_but_not_activated_then_forced_and_rolled_back(default_model: Any) -> None:
    embedder, _, _ = default_model
    train, _ = split(load_seed())
    # poisoned history: half the training prompts again, labelled "other"/"low", twice over
    poison = [dataclasses.replace(ex, id=f"bad-{i}-{ex.id}", task_type="other", complexity="low", strong=None,
                                  source="manual") for i in range(2) for ex in train[::2]]
    result = retrain(poison, embedder)
    assert not result["activated"] and result["version"] == "v0001"
    # the seed split's headline (task type and complexity; the shipped n-gram map keeps much of the task type)
    assert headline(result["after"]) < headline(result["before"]) - SEED_SLACK
    assert result["after"]["task_type"]["macro_f1"] < result["before"]["task_type"]["macro_f1"]
    # a fifth of the labels judged rather than trained, and by them alone the poisoned model would have won: the
    # seed split's slack is what refused it
    judges = result["own"]["examples"]
    assert judges == len(own_validation(poison)) and 0.15 < judges / len(poison) < 0.25
    assert own_score(result["own"]["after"]) > own_score(result["own"]["before"])
    assert versions.active_name() == "default" and [v["name"] for v in versions.listing()] == ["v0001"]
    assert versions.listing()[0]["train_sources"] == {"seed": len(train), "manual": len(poison) - judges}
    # labels that contradict the shipped n-gram map turn its weight down: they, not the map, would decide
    assert versions.listing()[0]["ngram_weight"] < NGRAM_WEIGHT
    forced = retrain(poison, embedder, force=True)
    assert forced["activated"] and versions.active_name() == "v0002"
    assert versions.history()[-1]["reason"] == "trained, forced"
    done = subprocess.run([sys.executable, "-m", "router", "train", "--rollback"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "active classifier: default" in done.stdout and versions.active_name() == "default"
    listing = subprocess.run([sys.executable, "-m", "router", "train", "--list"], capture_output=True, text=True,
                             timeout=60).stdout
    assert listing.splitlines()[0].startswith("* default") and "v0001" in listing and "v0002" in listing
    done = subprocess.run([sys.executable, "-m", "router", "train", "--rollback", "v0009"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "no classifier version 'v0009' (kept: v0001, v0002; or 'default')" in done.stderr


def test_a_model_trained_with_another_n_gram_map_is_flagged_for_retraining() -> None:
    """After an upgrade refits the shipped n-gram map, a user's `ccr train` model still classifies, and says it
    was trained with the old map and what to do."""
    import json
    import shutil

    from classifier.train import shipped_dir

    old = versions.versions_dir() / "v0001"
    shutil.copytree(shipped_dir(), old)
    meta = json.loads((old / "meta.json").read_text())
    (old / "meta.json").write_text(json.dumps({**meta, "ngram_map": "0123456789abcdef"}))
    versions.activate("v0001", "trained")
    done = subprocess.run([sys.executable, "-m", "router", "classify", "write unit tests for the config parser"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and json.loads(done.stdout)["task_type"] == "test", done.stderr
    assert "classifier v0001: it was trained with another n-gram map" in done.stderr
    assert "`ccr train`" in done.stderr and "Traceback" not in done.stderr


def test_a_users_own_labels_judge_once_there_are_enough() -> None:
    from classifier.dataset import Example

    labels = [Example(f"p_{i:04d}", "a prompt", "debug", None, None, source="manual") for i in range(200)]
    judges = own_validation(labels)
    assert 20 <= len(judges) <= 60 and own_validation(labels) == judges  # a fixed fifth, by a hash of the id
    assert own_validation(labels[:60]) == []  # too few to judge by: the seed split decides
    derived = [dataclasses.replace(ex, source="retry") for ex in labels]  # only manual labels judge
    assert own_validation(derived) == []


def test_a_good_retrain_is_activated_and_the_router_uses_it(upstream: ScriptedUpstream, make_router: MakeRouter,
                                                           default_model: Any) -> None:
    embedder, _, _ = default_model
    # a log whose only labels say whether a strong model was needed (the held-out set's, as `ccr label --strong`
    # or `--no-strong` would give them): the task and complexity heads train on the same data and score the
    # same, so it is activated, and those labels refit the difficulty for this user
    outcomes = [dataclasses.replace(ex, id=f"log-{ex.id}", task_type=None, complexity=None, source="manual")
                for ex in load_jsonl(heldout_file(), "heldout")]
    result = retrain(outcomes, embedder)
    assert result["activated"] and versions.active_name() == "v0001"
    personal = result["personal"]
    assert personal["labels"] == len(outcomes) and personal["strong"] == sum(bool(ex.strong) for ex in outcomes)
    assert personal["used"] and personal["auc_personal"] >= personal["auc_public"] + 0.02, personal
    assert versions.listing()[0]["personal"] == personal
    upstream.script = answer
    from tests.support.router import wait_ready

    router = make_router({"Providers": [{"name": "up", "api_base_url": f"{upstream.url}/v1/chat/completions",
                                         "api_key": "k", "models": MODELS}],
                          "Router": {"default": "up,mid"}, "Classifier": {"enabled": True}})
    wait_ready(router)
    assert httpx.get(router.url + "/health").json()["classifier"]["version"] == "v0001"


def test_ccr_label_and_ccr_train_on_a_stopped_routers_log(upstream: ScriptedUpstream, ccr_home: Any,
                                                          default_model: Any) -> None:
    import json

    upstream.script = answer
    config = {"Providers": [{"name": "up", "api_base_url": f"{upstream.url}/v1/chat/completions", "api_key": "k",
                             "models": MODELS}], "Router": {"default": "up,mid"}}
    (ccr_home / "config.json").write_text(json.dumps(config))
    router = RouterServer(config).start()
    try:
        assert send(router, "the cron job runs twice after DST changes, why", session="c").status_code == 200
        assert send(router, "rewrite it all in Go", session="d", model="up,strong").status_code == 200
    finally:
        router.stop()

    def ccr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "router", *args], capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)

    listed = ccr("label", "--list")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "cron job" in line)
    prompt_id = line.split()[0]
    done = ccr("label", prompt_id, "--task-type", "debug", "--complexity", "high", "--strong")
    assert done.returncode == 0 and f"labelled {prompt_id}" in done.stdout, done.stderr
    unknown = ccr("label", "p_nope", "--task-type", "debug")
    assert unknown.returncode == 2 and "no logged prompt p_nope" in unknown.stderr
    wrong = ccr("label", prompt_id, "--complexity", "huge")
    assert wrong.returncode == 2 and "complexity: must be one of low, medium, high, got 'huge'" in wrong.stderr
    assert "cron job" not in ccr("label", "--list").stdout  # labelled: no longer waiting
    trained = ccr("train")
    assert "labels from the log: 1 manual, 1 override" in trained.stderr
    assert "task_type macro-F1" in trained.stdout and "before" in trained.stdout
    # two outcome labels, both "strong needed": too few to refit the difficulty, and it says so
    assert ("your 2 outcome labels (2 strong needed) left the public heads as they are: fewer than 15 labels on "
            "one side") in trained.stderr
    assert trained.returncode in (0, 1)  # activated, or kept and not activated: both say so
    assert ("activated v0001" in trained.stdout) or ("did not activate it" in trained.stderr)
    assert [v["name"] for v in versions.listing()] == ["v0001"]
    assert versions.listing()[0]["train_sources"]["manual"] == 1


def test_the_personal_stage_learns_what_a_users_outcomes_say_and_not_noise(default_model: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Public heads blind to where a weak model fails within maths (trained without the word problems); a user's
    log of 250 such problems labelled by outcome (the weak side failing the longer half, by steps) refits the
    difficulty for that user, and problems of the same kind it never saw are ordered better; the same labels
    shuffled are refused, and so are too few of them. The router's arrays give the same probabilities. Chance is
    the labels' own statistic on shufflings: every search is scored on folds alike."""
    import numpy as np

    import classifier.model
    from classifier.evaluate import apgr
    from classifier.linear import LinearHeads
    from classifier.model import PERSONAL_MIN_EACH, PERSONAL_SHUFFLES, Heads
    from classifier.public import REASONING_FILE, bucket, load_outcomes, outcome_examples
    from classifier.train import matrix

    embedder, _, _ = default_model
    train, _ = split(load_seed())
    judged = outcome_examples(load_outcomes(evaluation=False))
    heads = Heads().fit(np.vstack([matrix(train[:800], embedder), judged.X]), train[:800] + judged.examples)
    maths = load_outcomes(evaluation=False, file=REASONING_FILE)
    column = maths.sources.index("gsm8k_train_steps")
    assert maths.source_weak is not None and maths.source_strong is not None
    weak, strong = maths.source_weak[:, column], maths.source_strong[:, column]
    gsm = np.flatnonzero(~np.isnan(weak))
    log = [i for i in gsm if bucket("log:" + maths.ids[i], 2)][:250]
    unseen = np.asarray([i for i in gsm if not bucket("log:" + maths.ids[i], 2)])
    failed = list(weak[log] < np.median(weak[gsm]))

    before = apgr(heads.strong_probability(maths.X[unseen]), strong[unseen], weak[unseen])
    folds, used = classifier.model._folds, []

    def recorded(y: Any) -> Any:
        used.append(folds(y))
        return used[-1]
    monkeypatch.setattr(classifier.model, "_folds", recorded)
    report = heads.fit_personal(maths.X[log], failed)
    # the labels' folds, then each shuffling's: as many, of the same sizes
    assert len(used) == 1 + PERSONAL_SHUFFLES, len(used)
    assert all([len(h) for _, h in f] == [len(h) for _, h in used[0]] for f in used), [len(f) for f in used]
    assert report["used"] and report["auc_personal"] > max(report["auc_public"], report["auc_chance"]), report
    after = apgr(heads.strong_probability(maths.X[unseen]), strong[unseen], weak[unseen])
    assert after >= before + 0.015, (before, after)
    arrays = LinearHeads.from_sklearn(heads).probabilities(maths.X[unseen])[4]
    assert np.abs(arrays - heads.strong_probability(maths.X[unseen])).max() < 1e-6

    shuffled = list(np.random.default_rng(0).permutation(failed))
    noise = heads.fit_personal(maths.X[log], shuffled)
    assert not noise["used"] and heads.personal is None and ("AUC" in noise["why"] or "shufflings" in noise["why"])
    few = heads.fit_personal(maths.X[log[:40]], [True] * 30 + [False] * 10)
    assert not few["used"] and few["why"].startswith(f"fewer than {PERSONAL_MIN_EACH} labels on one side")
