"""Training the heads: the default model from the seed set (deterministic, cached), and retraining from the
seed set plus labels derived from the decision log (`ccr train`), compared with the active model first."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib.metadata
import platform
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from classifier import ngrams, versions
from classifier.dataset import Example, data_hash, data_root, heldout_file, load_jsonl, load_seed, split
from classifier.embed import MODEL_NAME, EmbeddingCache, Encoder, shared
from classifier.evaluate import headline, score
from classifier.features import Conversation, embedding_text, readable, structural
from classifier.model import (
    CODING_TASKS,
    LENGTH_COLUMN,
    META_FILE,
    NGRAM_WEIGHT,
    PRIOR_STRENGTH,
    REASONING,
    Heads,
    Prediction,
    Predictor,
    base,
    features,
    load_inference,
    save,
    with_ngrams,
)
from classifier.public import REAL_SOURCES, bucket, split_key
from classifier.taxonomy import TASK_NAMES

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _cache() -> EmbeddingCache:
    return EmbeddingCache(versions.cache_dir() / "embeddings" / f"{MODEL_NAME}.npz")


def matrix(examples: list[Example], embedder: Encoder, say: Say = _quiet) -> np.ndarray:
    """Feature rows for labelled examples. The seed prompts stand alone; a logged prompt brings its conversation
    (human turns before it, context size), so those features carry weight once the log teaches them."""
    def progress(done: int, total: int) -> None:
        say(f"embedding {done}/{total}")

    vectors = _cache().embed(embedder, [embedding_text(ex.prompt) for ex in examples], progress)
    return features(vectors, [structural(ex.prompt, Conversation(ex.depth, 0, ex.context_tokens)) for ex in examples],
                    ngrams.logits([ex.prompt for ex in examples]))


def _utf8(prompt: str) -> str:
    """The prompt with any lone surrogate (a stray "\\ud800" escape in a JSON file) made U+FFFD: the tokenizer and
    the n-gram hash read UTF-8. The router's JSON parser refuses such bodies; `ccr classify` reads files."""
    try:
        prompt.encode("utf-8")
        return prompt
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in prompt)


def predict_texts(heads: Predictor, embedder: Encoder, prompts: list[str],
                  conversations: list[Conversation] | None = None) -> list[Prediction]:
    conversations = conversations or [Conversation()] * len(prompts)
    prompts = [_utf8(p) for p in prompts]
    vectors = embedder.encode([embedding_text(p) for p in prompts])
    out = heads.predict(features(vectors, [structural(p, c) for p, c in zip(prompts, conversations, strict=True)],
                                 ngrams.logits(prompts)))
    for prediction, prompt in zip(out, prompts, strict=True):
        if not readable(prompt):  # the best guess stays, but rules and the policy must not act on it
            prediction.uncertain = True
    return out


# the n-gram map's weights a user's own training labels choose among in `ccr train`, out of fold (shipped one first)
NGRAM_CHOICES = (NGRAM_WEIGHT, NGRAM_WEIGHT / 3, 0.0)
REAL_WEIGHT = 4  # each real prompt counts four times against the seed set's one (chosen by cross-validation)
GUESSED = ("seed", "heldout", *REAL_SOURCES)  # sources whose `strong` is a labeller's guess, not an outcome
PUBLIC_OUTCOMES = ("outcomes", REASONING, CODING_TASKS)  # data/outcomes' rows; every other `strong` is the user's log's
MANUAL = "manual"  # labels a user gave their own logged prompts (`ccr label`)
# one in five of a user's own labels judges a new model and never trains it, once there are enough of them to
# judge by: they, not this project's seed style, say whether `ccr train` made routing better for that user
OWN_VALIDATION_SHARE = 5
OWN_VALIDATION_MIN = 20
# ...and it may lose at most this much on the seed validation split: labels given carelessly (every prompt
# "other") must not activate a model that forgot the task types (real labels of agent sessions moved the seed
# split by -0.04 to +0.01)
SEED_SLACK = 0.05


def is_own_validation(example_id: str) -> bool:
    return bucket("own:" + example_id, OWN_VALIDATION_SHARE)


def own_validation(extra: list[Example]) -> list[Example]:
    """The user's labelled prompts that judge rather than train (none until OWN_VALIDATION_MIN of them would)."""
    held = [ex for ex in extra if ex.source == MANUAL and ex.task_type is not None and is_own_validation(ex.id)]
    return held if len(held) >= OWN_VALIDATION_MIN else []


def own_score(report: dict[str, Any]) -> float:
    """A model on a user's own held-out labels: the mean of task-type accuracy and macro-F1 (a few dozen prompts
    rarely have every class, so accuracy steadies the comparison; complexity labels are often left out). Its
    macro-F1 averages the classes the labels hold, the same for both models compared (the reported one also counts
    classes only predicted: one stray guess of another class would then weigh as much as a class of the labels)."""
    task = report["task_type"]
    f1 = [c["f1"] for c in task["per_class"].values() if c["support"]]
    return round((float(task["accuracy"]) + float(np.mean(f1) if f1 else 0.0)) / 2, 4)


def base_rows(train: list[Example], embedder: Encoder, say: Say = _quiet) -> tuple[np.ndarray, list[Example]]:
    """Feature rows for `train` (text) and the public training data (numbers: data/real, data/outcomes)."""
    from classifier.public import (
        CLASSEVAL_FILE,
        REASONING_FILE,
        coding_examples,
        exam_examples,
        load_outcomes,
        load_real,
        outcome_examples,
    )

    real, outcomes = load_real(evaluation=False), outcome_examples(load_outcomes(evaluation=False))
    maths = exam_examples(load_outcomes(evaluation=False, file=REASONING_FILE))
    code = coding_examples(load_outcomes(evaluation=None, file=CLASSEVAL_FILE))
    # difficulty is learned from outcomes (public ones, and the log's: overrides, escalations, retries, labels),
    # not from the guesses written beside the seed and real prompts: those scored below random on outcomes (a
    # data directory without outcomes keeps the guesses, the only difficulty labels it has)
    if outcomes.examples:
        train = [replace(ex, strong=None) if ex.source in GUESSED else ex for ex in train]
        real.examples = [replace(ex, strong=None) for ex in real.examples]
    parts, examples = [matrix(train, embedder, say)], list(train)
    # a user's own labels are real prompts of their traffic: counted like data/real's for task type and
    # complexity (250 of them: agent-session accuracy 0.53 counted once, 0.55 four times, from 0.44), once for
    # difficulty, like every label from the log
    own = [replace(ex, strong=None) for ex in train if ex.source == MANUAL]
    if own:
        parts += [matrix(own, embedder)] * (REAL_WEIGHT - 1)
        examples += own * (REAL_WEIGHT - 1)
    if real.examples:
        parts += [real.X] * REAL_WEIGHT
        examples += real.examples * REAL_WEIGHT
    if outcomes.examples:
        parts.append(outcomes.X)
        examples += outcomes.examples
    for expert in (maths, code):  # the exam and coding experts' rows (Heads.fit keeps them out of the other heads)
        if expert.examples:
            parts.append(expert.X)
            examples += expert.examples
    return np.vstack(parts), examples


def real_prior(examples: list[Example]) -> dict[str, float] | None:
    """The task types' shares in real requests (the training side of data/real, among `examples`), smoothed. Only the
    prompts taken as their sources had them count: the targeted set was chosen for its classes."""
    real = list({ex.id: ex for ex in examples if ex.source == "real"}.values())  # each prompt once
    if not real:
        return None
    counts = {t: sum(ex.task_type == t for ex in real) for t in TASK_NAMES}
    return {t: (n + 1) / (len(real) + len(TASK_NAMES)) for t, n in counts.items()}


def _calibrate(X: np.ndarray, examples: list[Example], prior: dict[str, float] | None,
               ngram_weight: float) -> tuple[float, float]:
    """The task head's temperature: the one that makes its probabilities on real prompts it did not see (five
    folds of them, each scored by heads trained on the rest) most likely. And the n-gram map's weight: when the
    user's own labels are among the rows (`ccr train`), the one of NGRAM_CHOICES that labels them best in those
    folds (accuracy and macro-F1): the map is fixed, so where a user's labels disagree with it, only a smaller
    weight lets the perceptrons, trained on them, decide. The labels that judge the new model are not used."""
    rows = [i for i, ex in enumerate(examples) if ex.task_type is not None]
    real_ids = sorted({examples[i].id for i in rows if examples[i].source in (*REAL_SOURCES, MANUAL)})
    if len(real_ids) < 50:
        return 1.0, ngram_weight
    # a conversation's prompts are held out together (a sibling in training would make the fold look surer)
    groups = sorted({split_key(i) for i in real_ids})
    logits, grams, truth, mine = [], [], [], []
    for fold in range(5):
        held_groups = set(groups[fold::5])
        held_ids = {i for i in real_ids if split_key(i) in held_groups}
        train = [i for i in rows if examples[i].id not in held_ids]
        held = sorted({examples[i].id: i for i in rows if examples[i].id in held_ids}.values())  # one copy each
        head = Heads.task_head().fit(base(X[train]), [examples[i].task_type for i in train])
        classes = [str(c) for c in head.classes_]
        logits.append(np.asarray(head.decision_function(base(X[held]))))
        # the real prompts' n-gram logits came from maps that did not see them either
        grams.append(with_ngrams(X[held], classes, 1.0))
        truth += [classes.index(str(examples[i].task_type)) for i in held]
        mine += [examples[i].source == MANUAL for i in held]
    z, g, y, own = np.vstack(logits), np.vstack(grams), np.asarray(truth), np.asarray(mine)
    z = z + (PRIOR_STRENGTH * np.log([prior[c] for c in classes]) if prior else 0.0)
    if ngram_weight and own.sum() >= OWN_VALIDATION_MIN:
        def labelled(weight: float) -> float:
            guess, right = (z[own] + weight * g[own]).argmax(axis=1), y[own]
            f1 = [2 * np.sum((guess == k) & (right == k)) / max(1, np.sum(guess == k) + np.sum(right == k))
                  for k in np.unique(right)]
            return float(np.mean(guess == right) + np.mean(f1))
        ngram_weight = max(NGRAM_CHOICES, key=lambda w: (labelled(w), w))  # a tie keeps the larger weight
    z = z + ngram_weight * g

    def nll(t: float) -> float:
        s = z / t
        s = s - s.max(axis=1, keepdims=True)
        return float(-(s[np.arange(len(y)), y] - np.log(np.exp(s).sum(axis=1))).mean())
    return float(min(np.linspace(0.5, 3.0, 26), key=nll)), ngram_weight


def fit(train: list[Example], embedder: Encoder, say: Say = _quiet) -> Heads:
    X, examples = base_rows(train, embedder, say)
    prior = real_prior(examples)
    # the log's outcome labels (manual, overrides, escalations, retries) train the personal stage, not the public
    # heads: among ~1,000 public rows they moved nothing measurable, and a head that had seen them would judge
    # the personal stage on its own training labels
    own = [i for i, ex in enumerate(examples) if ex.strong is not None and ex.source not in (*GUESSED, *PUBLIC_OUTCOMES)]
    strong, own_rows = [bool(examples[i].strong) for i in own], set(own)
    examples = [replace(ex, strong=None) if i in own_rows else ex for i, ex in enumerate(examples)]
    say(f"fitting the heads on {len(examples)} rows ({len(train)} labelled prompts, the rest public data)")
    heads = Heads().fit(X, examples, prior)
    say("calibrating the task head")
    shipped = heads.ngram_weight
    heads.task_temperature, heads.ngram_weight = _calibrate(X, examples, prior, shipped)
    if heads.ngram_weight != shipped:
        say(f"the n-gram map's weight, chosen on your labels: {heads.ngram_weight} (shipped: {shipped})")
    if own:
        say(f"fitting the personal difficulty stage on {len(own)} outcome labels from your log (up to a minute)")
        heads.personal_report = heads.fit_personal(X[own], strong)
    return heads


def evaluate(heads: Predictor, examples: list[Example], embedder: Encoder, say: Say = _quiet) -> dict[str, Any]:
    return score(examples, heads.predict(matrix(examples, embedder, say)))


def _meta(train: list[Example], val_report: dict[str, Any], heldout: dict[str, Any] | None,
          source: str) -> dict[str, Any]:
    import sklearn

    sources: dict[str, int] = {}
    for ex in train:
        sources[ex.source] = sources.get(ex.source, 0) + 1
    return {
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source, "data_hash": data_hash(train), "train_examples": len(train), "train_sources": sources,
        "embedding": MODEL_NAME, "sklearn": sklearn.__version__, "python": platform.python_version(),
        "score": headline(val_report), "metrics": val_report, "heldout": heldout, "ngram_map": ngrams.digest(),
    }


def default_dir() -> Path:
    try:  # not imported: the router loads the heads without it
        sklearn = importlib.metadata.version("scikit-learn")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("the shipped classifier (data/model) is missing and training one needs the training "
                           "extra: pip install 'ccr[train]', or reinstall ccr") from None
    return (versions.cache_dir() / "classifier"
            / f"default-{data_hash(load_seed())}-{ngrams.digest() or 'nomap'}-sklearn{sklearn}")


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One process trains the default at a time; the others wait and then find it ready."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train_default(directory: Path, embedder: Encoder, say: Say = _quiet) -> dict[str, Any]:
    train, val = split(load_seed())
    heads = fit(train, embedder, say)
    say("scoring the validation split")
    val_report = evaluate(heads, val, embedder, say)
    heldout = None
    if heldout_file().exists():
        say("scoring the held-out set")
        heldout = evaluate(heads, load_jsonl(heldout_file(), "heldout"), embedder, say)
    meta = _meta(train, val_report, heldout, "seed")
    meta["public"] = public_report(heads)
    meta["task_temperature"] = heads.task_temperature
    meta["ngram_weight"] = heads.ngram_weight
    save(heads, meta, directory)
    return meta


def public_report(heads: Predictor) -> dict[str, Any]:
    """The evaluation sides of the public data, which no head trained on: task type and complexity on real
    prompts (data/real: all of them, and `real_traffic`, those taken as their sources had them), and APGR on strong/weak
    outcomes (data/outcomes), on exam questions ranked by a proxy of their difficulty (`reasoning`: maths
    problems by their solutions' steps, ARC's Challenge against its Easy questions) and on coding work
    (`coding`: InfiBench's questions, none trained on, and ClassEval's tasks, which the coding expert learned
    from), beside prompt length's."""
    from classifier.evaluate import apgr
    from classifier.public import (
        CLASSEVAL_FILE,
        CODING_FILE,
        REASONING_FILE,
        SESSIONS,
        WILDCHAT,
        load_outcomes,
        load_real,
    )

    out: dict[str, Any] = {}
    real = load_real(evaluation=True)
    predicted = heads.predict(real.X) if real.examples else []  # once: every report below is a part of these

    def part(*sources: str) -> tuple[list[Example], list[Prediction]]:
        rows = [i for i, ex in enumerate(real.examples) if ex.source in sources]
        return [real.examples[i] for i in rows], [predicted[i] for i in rows]

    if real.examples:
        out["real"] = score(real.examples, predicted)
    # the first set alone (without the targeted set: the mix of real traffic), the sessions, the ChatGPT requests
    for key, source in (("real_traffic", "real"), ("real_sessions", SESSIONS), ("real_wildchat", WILDCHAT)):
        examples, their = part(source)
        if examples:
            out[key] = score(examples, their)
    # the difficulty quantiles of prompts as real traffic sends them (not chosen by class): what strongShare's
    # threshold is read from, so that a quarter means a quarter of real turns, not of this project's seed prompts
    as_sent = part("real", SESSIONS, WILDCHAT)[1]
    if as_sent:
        difficulty = np.asarray([p.difficulty for p in as_sent])
        out["traffic_difficulty_quantiles"] = [round(float(q), 4) for q in np.quantile(difficulty, np.linspace(0, 1, 101))]
    outcomes = load_outcomes(evaluation=True)
    if outcomes.ids:
        difficulty = np.asarray([p.difficulty for p in heads.predict(outcomes.X)])
        length = outcomes.X[:, LENGTH_COLUMN]
        out["outcomes"] = {"prompts": len(outcomes.ids),
                           "apgr": apgr(difficulty, outcomes.strong_score, outcomes.weak_score),
                           "apgr_length": apgr(length, outcomes.strong_score, outcomes.weak_score),
                           "sources": outcome_sources(outcomes, difficulty, length)}
    for key, file, evaluation in (("reasoning", REASONING_FILE, True), ("coding", CODING_FILE, None),
                                  ("coding", CLASSEVAL_FILE, None)):
        rows = load_outcomes(evaluation=evaluation, file=file)
        if rows.ids:
            difficulty = np.asarray([p.difficulty for p in heads.predict(rows.X)])
            out.setdefault(key, {}).update(outcome_sources(rows, difficulty, rows.X[:, LENGTH_COLUMN]))
    return out


def outcome_sources(outcomes: Any, difficulty: np.ndarray, length: np.ndarray) -> dict[str, dict[str, float]]:
    """APGR per source of public outcomes (its fixed pairs, or its strong and weak tiers of many models), with
    prompt length's, on the prompts that source has."""
    from classifier.evaluate import apgr

    out: dict[str, dict[str, float]] = {}
    if outcomes.source_strong is None or outcomes.source_weak is None:
        return out
    for j, source in enumerate(outcomes.sources):
        s, w = outcomes.source_strong[:, j], outcomes.source_weak[:, j]
        has = ~(np.isnan(s) | np.isnan(w))
        if has.sum() >= 10:
            out[source] = {"prompts": int(has.sum()), "apgr": apgr(difficulty[has], s[has], w[has]),
                           "apgr_length": apgr(length[has], s[has], w[has])}
    return out


def ensure_default(embedder: Encoder | None = None, say: Say = _quiet) -> Path:
    """The default model's directory, trained from the seed set on first use (a minute at most) and cached."""
    directory = default_dir()
    if (directory / "meta.json").exists():
        return directory
    with _exclusive(directory.with_name(directory.name + ".lock")):
        if not (directory / "meta.json").exists():
            say(f"training the default classifier from {len(load_seed())} seed examples (first use; cached in "
                f"{directory})")
            train_default(directory, embedder if embedder is not None else shared(), say)
    return directory


def shipped_dir() -> Path:
    """The default model as ccr ships it (data/model: the heads as arrays and their metadata), trained by
    `python -m classifier.ship`: the first start needs no training and no scikit-learn."""
    return data_root() / "model"


def active_dir(embedder: Encoder | None = None, say: Say = _quiet) -> Path:
    name = versions.active_name()
    if name == versions.DEFAULT:
        if (shipped_dir() / META_FILE).exists():
            return shipped_dir()
        return ensure_default(embedder, say)  # a checkout whose shipped model was removed: train it once
    return versions.versions_dir() / name


def load_active(embedder: Encoder | None = None, say: Say = _quiet) -> tuple[Predictor, dict[str, Any], str]:
    """The active model's heads as arrays (classifier.linear): what the router runs, and what `ccr classify`,
    `ccr eval` and `ccr train` score, so all of them give the same answers."""
    heads, meta = load_inference(active_dir(embedder, say))
    return heads, meta, versions.active_name()


def stale_map(meta: dict[str, Any], name: str) -> str | None:
    """What to tell the user when a model `ccr train` made was trained with another n-gram map than the one
    installed (ccr was upgraded since, and the upgrade refitted the map; models made before models recorded
    their map all predate the one installed now): its task head still works, but it weighed the map it knew.
    The default model is trained with the map it ships with."""
    if name == versions.DEFAULT:
        return None
    trained, installed = meta.get("ngram_map"), ngrams.digest()
    if trained is not None and trained == installed:
        return None
    if installed is None:
        what = "this data directory has no n-gram map (data/real/ngrams.npz) and the model was trained with one"
    else:
        what = "it was trained with another n-gram map than this ccr ships"
    return (f"classifier {name}: {what}, so its task types may be a little off; run `ccr train` to retrain it "
            "(with --force if the new model is not activated), or `ccr train --rollback default` for the shipped model")


def retrain(extra: list[Example], embedder: Encoder | None = None, say: Say = _quiet,
            force: bool = False) -> dict[str, Any]:
    """Seed train split + derived labels; compared with the active model on a fifth of the user's own labelled
    prompts (kept out of training) once there are OWN_VALIDATION_MIN of them, and then allowed to lose SEED_SLACK
    on the seed validation split, else on that split alone. Activated only when it scores at least as well,
    unless forced. The candidate is kept either way."""
    encoder: Encoder = embedder or shared()
    train, val = split(load_seed())
    judges = own_validation(extra)
    held_ids = {ex.id for ex in judges}
    train = train + [ex for ex in extra if ex.id not in held_ids]
    current, _, current_name = load_active(encoder, say)
    say("scoring the active model on the validation split")
    before = evaluate(current, val, encoder, say)
    heads = fit(train, encoder, say)
    say("scoring the new model on the validation split")
    after = evaluate(heads, val, encoder, say)
    heldout = evaluate(heads, load_jsonl(heldout_file(), "heldout"), encoder, say) if heldout_file().exists() else None
    meta = _meta(train, after, heldout, "seed+log")
    meta["public"] = public_report(heads)
    meta["parent"] = current_name
    meta["ngram_weight"] = heads.ngram_weight
    if heads.personal_report is not None:
        meta["personal"] = heads.personal_report
    own: dict[str, Any] | None = None
    if judges:
        say(f"scoring both models on {len(judges)} of your labelled prompts kept out of training")
        own = {"examples": len(judges), "before": evaluate(current, judges, encoder, say),
               "after": evaluate(heads, judges, encoder, say)}
        meta["own_validation"] = {"examples": len(judges), "score": own_score(own["after"])}
    directory = versions.next_dir()
    save(heads, meta, directory)
    if own:  # the user's own prompts decide; the seed split is this project's style, not theirs
        better = (own_score(own["after"]) >= own_score(own["before"])
                  and headline(after) >= headline(before) - SEED_SLACK)
    else:
        better = headline(after) >= headline(before)
    if better or force:
        versions.activate(directory.name, "trained" if better else "trained, forced")
    return {"version": directory.name, "activated": better or force, "before": before, "after": after,
            "heldout": heldout, "previous": current_name, "derived": len(extra), "own": own,
            "personal": heads.personal_report}
