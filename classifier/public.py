"""Public data the shipped classifier learns from and is measured on, kept as numbers only.

- data/real/: developer prompts written by people outside this project (agents' chat histories, Chatbot Arena
  questions, Stack Overflow questions, issue trackers, requests to ChatGPT; data/real/extract_*.py name each
  source, its commit and licence and extract them from a fetched snapshot), labelled here by data/LABELLING.md
  (labels*.jsonl). Half of them, by a hash of the id, train the heads; the other half is the evaluation nobody
  trained on.
- data/outcomes/: prompts with the per-prompt results of strong and weak models (AlpacaEval, Arena-Hard's first
  bench; data/outcomes/extract.py: fixed strong/weak pairs; data/outcomes/extract_many.py: every model whose
  judgements the sources publish, 14 to 55 a source), which train the difficulty head ("the strong model wins
  where the weak one fails", estimated over many models); a fifth of the prompts, by hash, is held out to report
  APGR, per source.
- data/outcomes/reasoning.npz: exam questions with a proxy of where weak models fail on them
  (data/outcomes/extract_reasoning.py): maths word problems by the number of steps of their worked solution
  (GSM8K's train split, AQuA), science questions by ARC's set (Challenge: simple solvers fail them; Easy), which
  the judged outcomes cannot teach; trained on and reported like an outcome source.
- data/outcomes/coding.npz: developers' coding questions (InfiBench's dev set, adapted from Stack Overflow) with
  GPT-4's and GPT-3.5's graded answers (data/outcomes/extract_coding.py); too few (135) to train on, so every
  one of them evaluates difficulty on coding work.
- data/outcomes/classeval.npz: ClassEval's class-generation tasks with the share of their tests that GPT-4-Turbo's
  code and five open 6.7-15B models' code pass (data/outcomes/extract_classeval.py runs the tests); they train the
  coding expert (classifier.model.CODING_TASKS).

The repository holds no text of theirs: `python -m classifier.public` turns the extracted JSONL into embeddings
and structural features (embeddings.npz), and fits the n-gram map on the real prompts' training halves
(data/real/ngrams.npz: weights, and each real prompt's n-gram task logits beside its embedding), which is all
training and evaluation need.

    python -m classifier.public --real prompts1.jsonl prompts2.jsonl --targeted prompts3.jsonl \
        --sessions sessions.jsonl --wildchat wildchat.jsonl --outcomes outcomes.jsonl --items items.jsonl \
        --reasoning reasoning.jsonl --coding coding.jsonl --classeval classeval.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.dataset import Example, data_root
from classifier.embed import Encoder
from classifier.features import embedding_text, structural
from classifier.model import CODING_TASKS, REASONING
from classifier.taxonomy import TASK_NAMES

TARGETED = "real-targeted"  # the source of real prompts chosen for their classes (data/real/labels_targeted.jsonl)
SESSIONS = "real-sessions"  # developers' instructions to coding agents, from committed chat logs (labels_sessions.jsonl)
WILDCHAT = "real-wildchat"  # what developers typed to ChatGPT, from its public log (labels_wildchat.jsonl)
REAL_EVAL_SHARE = 2  # one in two real prompts is evaluation only
OUTCOME_EVAL_SHARE = 5  # one in five outcome prompts
OUTCOMES_FILE = "embeddings.npz"  # judged outcomes of strong and weak models
REASONING_FILE = "reasoning.npz"  # exam questions ranked by a proxy of difficulty (solution steps; ARC's sets)
CODING_FILE = "coding.npz"  # coding questions with a strong and a weak model's graded answers (evaluation only)
CLASSEVAL_FILE = "classeval.npz"  # coding tasks with the share of their tests strong and weak models pass (training)


def bucket(key: str, share: int) -> bool:
    """Whether `key` falls in the one-in-`share` side of a split fixed by its hash (adding data never moves it)."""
    return int(hashlib.blake2b(key.encode(), digest_size=4).hexdigest(), 16) % share == 0


def split_key(example_id: str) -> str:
    """What the splits hash: the id, or for a prompt of a conversation (`<source>-<conversation>~<turn>`) its
    conversation, so that its siblings, in whichever source, never sit on the other side of a split. An agent
    session's prompt carries its developer there (`sess-<owner>~<prompt>`): their style and project stay on one side."""
    head, turn, _ = example_id.partition("~")
    return head.partition("-")[2] if turn else example_id


def is_real_eval(example_id: str) -> bool:
    return bucket("real:" + split_key(example_id), REAL_EVAL_SHARE)


def is_outcome_eval(example_id: str) -> bool:
    return bucket("outcome:" + example_id, OUTCOME_EVAL_SHARE)


def real_dir() -> Path:
    return data_root() / "real"


def outcomes_dir() -> Path:
    return data_root() / "outcomes"


@dataclass
class Rows:
    """Feature rows (embedding + structural) and what is known of each."""

    X: np.ndarray
    examples: list[Example]


@dataclass
class Outcomes:
    X: np.ndarray
    ids: list[str]
    strong_score: np.ndarray  # mean over the strong/weak pairs of each model's quality on the prompt, in [0, 1]
    weak_score: np.ndarray
    strong_needed: np.ndarray  # share of pairs where the strong model clearly won
    # how much a strong model gains over weak ones on each prompt, in (0, 1): the mean over the sources that have
    # the prompt of its rank among the source's prompts by that gain (fixed pairs, and strong against weak tiers
    # of many models); None in data built before it, where the fixed pairs' gap is used
    target: np.ndarray | None = None
    # per source, each prompt's strong and weak quality (NaN: not in that source), for APGR per source
    sources: tuple[str, ...] = ()
    source_strong: np.ndarray | None = None
    source_weak: np.ndarray | None = None


def _rows(path: Path) -> tuple[list[str], np.ndarray]:
    """Ids and feature rows (classifier.model.features); n-gram logits are zeros in files without them (the
    outcome prompts: they train no task head)."""
    with np.load(path, allow_pickle=False) as data:
        ids = [str(i) for i in data["ids"]]
        grams = data["ngram"] if "ngram" in data.files else np.zeros((len(ids), len(TASK_NAMES)), np.float32)
        X = np.hstack([data["embeddings"].astype(np.float32), data["structural"].astype(np.float32),
                       grams.astype(np.float32)])
    return ids, X


# the sets of real prompts: (embeddings, labels, the source their examples carry). The first holds prompts taken
# as their sources had them (agent histories, chat questions, issue trackers): its mix of task types is the one
# real traffic is estimated from. The second was chosen for the classes real traffic has few of (review,
# document, plan requests: agent commands, Copilot prompt files) and chat prompts of every kind; it teaches those
# classes and is evaluated like the first, but its mix says nothing about traffic. The third holds what
# developers typed to coding agents (Cursor, Claude Code, Gemini CLI, Aider sessions saved in their repositories),
# the same number from each repository rather than chosen by class. The fourth, what developers typed to ChatGPT
# (WildChat's conversations with a follow-up: the request before it and the follow-up), as they sent it.
REAL_SETS = (("embeddings.npz", "labels.jsonl", "real"),
             ("embeddings_targeted.npz", "labels_targeted.jsonl", TARGETED),
             ("embeddings_sessions.npz", "labels_sessions.jsonl", SESSIONS),
             ("embeddings_wildchat.npz", "labels_wildchat.jsonl", WILDCHAT))
REAL_SOURCES = tuple(source for _, _, source in REAL_SETS)


def load_real(evaluation: bool, sources: tuple[str, ...] = REAL_SOURCES) -> Rows:
    """The labelled real prompts of one side of the split (evaluation, or training), of the given sets."""
    parts, examples = [], []
    for npz, labels_file, source in REAL_SETS:
        path = real_dir() / npz
        if source not in sources or not path.exists():
            continue
        ids, X = _rows(path)
        labels = {}
        for line in (real_dir() / labels_file).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                labels[row["id"]] = row
        keep = [i for i, id_ in enumerate(ids) if id_ in labels and is_real_eval(id_) == evaluation]
        parts.append(X[keep])
        examples += [Example(ids[i], "", labels[ids[i]]["task_type"], labels[ids[i]]["complexity"],
                             labels[ids[i]]["strong"], source=source) for i in keep]
    if not parts:
        return Rows(np.zeros((0, 0), np.float32), [])
    return Rows(np.vstack(parts), examples)


def load_outcomes(evaluation: bool | None, file: str = OUTCOMES_FILE) -> Outcomes:
    """One side of the split (evaluation, or training) of the judged outcomes, or of another file of the same
    shape (REASONING_FILE); every row with `evaluation` None (CODING_FILE, which nothing trains on; CLASSEVAL_FILE,
    all of which trains the coding expert)."""
    path = outcomes_dir() / file
    if not path.exists():
        return Outcomes(np.zeros((0, 0), np.float32), [], np.zeros(0), np.zeros(0), np.zeros(0))
    ids, X = _rows(path)
    with np.load(path, allow_pickle=False) as data:
        strong, weak, needed = data["strong_score"], data["weak_score"], data["strong_needed"]
        extra = {k: data[k] for k in ("target", "sources", "source_strong", "source_weak") if k in data.files}
    keep = [i for i, id_ in enumerate(ids) if evaluation is None or is_outcome_eval(id_) == evaluation]
    out = Outcomes(X[keep], [ids[i] for i in keep], strong[keep], weak[keep], needed[keep])
    if "target" in extra:
        out.target = extra["target"][keep].astype(np.float64)
    if "sources" in extra:
        out.sources = tuple(str(s) for s in extra["sources"])
        out.source_strong = extra["source_strong"][keep].astype(np.float64)
        out.source_weak = extra["source_weak"][keep].astype(np.float64)
    return out


def outcome_examples(outcomes: Outcomes) -> Rows:
    """Training rows for the difficulty head: "strong needed" where the strong models' lead over weak ones is
    above its median (`target`: ranked per source, over many models; else the fixed pairs' gap). The weak models
    lose most prompts outright, so what the head can learn is which prompts they lose by most; the median split
    keeps the two classes even."""
    gap = outcomes.target if outcomes.target is not None else outcomes.strong_score - outcomes.weak_score
    cut = float(np.median(gap)) if len(gap) else 0.0
    examples = [Example(id_, "", None, None, bool(g > cut), source="outcomes")
                for id_, g in zip(outcomes.ids, gap, strict=True)]
    return Rows(outcomes.X, examples)


def exam_examples(outcomes: Outcomes) -> Rows:
    """Training rows for the exam expert (REASONING_FILE): "strong needed" above each source's median steps, or on
    ARC's Challenge side (`strong_needed`, per source; a median over the pooled file would fall inside ARC's many
    zeros and call nine maths problems in ten hard)."""
    examples = [Example(id_, "", None, None, bool(n > 0.5), source=REASONING)
                for id_, n in zip(outcomes.ids, outcomes.strong_needed, strict=True)]
    return Rows(outcomes.X, examples)


def coding_examples(outcomes: Outcomes) -> Rows:
    """Training rows for the coding expert (CLASSEVAL_FILE): "strong needed" where the strong model's lead over the
    weak ones (in the share of tests passed) is above its median."""
    gap = outcomes.strong_score - outcomes.weak_score
    cut = float(np.median(gap)) if len(gap) else 0.0
    return Rows(outcomes.X, [Example(id_, "", None, None, bool(g > cut), source=CODING_TASKS)
                             for id_, g in zip(outcomes.ids, gap, strict=True)])


def _write(path: Path, ids: list[str], prompts: list[str], embedder: Encoder, **extra: np.ndarray) -> None:
    vectors = embedder.encode([embedding_text(p) for p in prompts])
    arrays = {"ids": np.asarray(ids), "embeddings": vectors.astype(np.float16),
              "structural": np.asarray([structural(p) for p in prompts], np.float32), **extra}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle


def _rank(values: np.ndarray) -> np.ndarray:
    """Each finite value's rank among the finite ones, in (0, 1) (ties share their mean rank); NaN stays NaN."""
    out = np.full(len(values), np.nan)
    finite = np.flatnonzero(~np.isnan(values))
    if len(finite):
        v = values[finite]
        order = np.argsort(v, kind="stable")
        ranks = np.empty(len(v))
        ranks[order] = np.arange(len(v), dtype=np.float64)
        for value in np.unique(v):  # ties: their mean rank
            same = v == value
            ranks[same] = ranks[same].mean()
        out[finite] = (ranks + 0.5) / len(v)
    return out


# many models per source: the strong side is the best quarter of its models (by mean quality), the weak side
# the worse half
STRONG_TIER, WEAK_TIER = 0.25, 0.5


def _tiers(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per prompt (rows), the mean quality of the strong and of the weak tier of models (columns; NaN: not
    judged)."""
    order = np.argsort(-np.nanmean(scores, axis=0), kind="stable")
    strong = order[:max(1, round(STRONG_TIER * len(order)))]
    weak = order[-max(1, round(WEAK_TIER * len(order))):]

    def mean(cols: np.ndarray) -> np.ndarray:
        part = scores[:, cols]
        n = (~np.isnan(part)).sum(axis=1)
        return np.where(n > 0, np.nansum(part, axis=1) / np.maximum(n, 1), np.nan)
    return mean(strong), mean(weak)


def outcome_arrays(ids: list[str], rows: list[dict[str, object]], items: list[dict[str, object]]) -> dict[str, np.ndarray]:
    """Per source (the fixed pairs of outcomes.jsonl, and the many models of items.jsonl), each prompt's strong
    and weak quality; and the training target: the mean over a prompt's sources of its rank by strong − weak."""
    index = {id_: k for k, id_ in enumerate(ids)}
    pairs: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        pairs[str(r["source"])][str(r["id"])].append((float(str(r["strong_score"])), float(str(r["weak_score"]))))
    models: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in items:
        if str(r["id"]) in index:
            models[str(r["source"])][str(r["model"])][str(r["id"])] = float(str(r["score"]))
    names, strong, weak = [], [], []
    for source, per in sorted(pairs.items()):
        s, w = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        for id_, values in per.items():
            s[index[id_]], w[index[id_]] = np.mean(values, axis=0)
        names.append(source)
        strong.append(s)
        weak.append(w)
    for source, by_model in sorted(models.items()):
        scores = np.full((len(ids), len(by_model)), np.nan)
        for j, (_, judged) in enumerate(sorted(by_model.items())):
            for id_, value in judged.items():
                scores[index[id_], j] = value
        s, w = _tiers(scores)
        names.append(source)
        strong.append(s)
        weak.append(w)
    S, W = np.stack(strong, axis=1), np.stack(weak, axis=1)
    ranks = np.stack([_rank(S[:, j] - W[:, j]) for j in range(len(names))], axis=1)
    target = np.nanmean(ranks, axis=1)
    return {"target": target.astype(np.float32), "sources": np.asarray(names),
            "source_strong": S.astype(np.float32), "source_weak": W.astype(np.float32)}


def reasoning_arrays(rows: list[dict[str, object]]) -> dict[str, np.ndarray]:
    """Per source, each question's rank by its steps is its target (the gap a strong model closes); for APGR the
    strong side solves everything and the weak side 1 − that rank. A source whose steps are only 0 and 1 (ARC:
    Easy or Challenge) is a split, not a scale: its target is the step itself (ranks would give the easy side a
    third of a gap, and pull every order's APGR toward 0.5)."""
    names = sorted({str(r["source"]) for r in rows})
    target = np.full(len(rows), np.nan)
    S, W = np.full((len(rows), len(names)), np.nan), np.full((len(rows), len(names)), np.nan)
    for j, name in enumerate(names):
        at = np.asarray([k for k, r in enumerate(rows) if r["source"] == name])
        steps = np.asarray([float(str(rows[k]["steps"])) for k in at])
        ranks = steps if set(steps.tolist()) == {0.0, 1.0} else _rank(steps)
        target[at], S[at, j], W[at, j] = ranks, 1.0, 1.0 - ranks
    return {"strong_score": np.ones(len(rows), np.float32), "weak_score": (1.0 - target).astype(np.float32),
            "strong_needed": (target > 0.5).astype(np.float32), "target": target.astype(np.float32),
            "sources": np.asarray(names), "source_strong": S.astype(np.float32), "source_weak": W.astype(np.float32)}


def scored_arrays(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """A strong and a weak model's score per prompt (coding questions, coding tasks), as one source per `source`."""
    names = sorted({str(r["source"]) for r in rows})
    strong = np.asarray([float(r["strong_score"]) for r in rows], np.float32)
    weak = np.asarray([float(r["weak_score"]) for r in rows], np.float32)
    mine = np.asarray([[1.0 if r["source"] == name else np.nan for name in names] for r in rows])
    return {"strong_score": strong, "weak_score": weak, "strong_needed": (strong > weak).astype(np.float32),
            "sources": np.asarray(names), "source_strong": (mine * strong[:, None]).astype(np.float32),
            "source_weak": (mine * weak[:, None]).astype(np.float32)}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line; split on newlines only: the text may hold U+2028 and other line separators,
    which str.splitlines() would break a line at."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def build(sets: list[list[Path]], outcomes: Path | None, items: Path | None = None,
          reasoning: Path | None = None, coding: Path | None = None, classeval: Path | None = None) -> None:
    """Embed each set of real prompts (`sets`: their JSONL files, in REAL_SETS order; an empty list leaves that set
    as it is), the outcome prompts, the exam questions, the coding questions and the coding tasks."""
    from classifier.embed import shared

    embedder = shared()
    for files, (name, _, _) in zip(sets, REAL_SETS, strict=True):
        if not files:
            continue
        rows = [row for path in files for row in _jsonl(path)]
        real_dir().mkdir(parents=True, exist_ok=True)
        _write(real_dir() / name, [r["id"] for r in rows], [r["prompt"] for r in rows], embedder)
        print(f"ccr: {len(rows)} real prompts embedded into {real_dir() / name}", file=sys.stderr)
    if outcomes is not None:
        by_prompt: dict[str, list[dict[str, object]]] = defaultdict(list)
        text: dict[str, str] = {}
        all_rows = _jsonl(outcomes)
        for row in all_rows:
            by_prompt[row["id"]].append(row)
            text[row["id"]] = row["prompt"]
        ids = sorted(by_prompt)
        many = _jsonl(items) if items else []

        def mean(key: str) -> np.ndarray:
            return np.asarray([np.mean([float(str(r[key])) for r in by_prompt[i]]) for i in ids], np.float32)
        outcomes_dir().mkdir(parents=True, exist_ok=True)
        _write(outcomes_dir() / OUTCOMES_FILE, ids, [text[i] for i in ids], embedder,
               strong_score=mean("strong_score"), weak_score=mean("weak_score"), strong_needed=mean("strong_needed"),
               **outcome_arrays(ids, all_rows, many))
        print(f"ccr: {len(ids)} outcome prompts embedded into {outcomes_dir() / OUTCOMES_FILE}", file=sys.stderr)
    # one file each: exam questions by steps or set, coding questions graded, coding tasks by tests passed
    for path, file, what, arrays in ((reasoning, REASONING_FILE, "exam questions", reasoning_arrays),
                                     (coding, CODING_FILE, "coding questions", scored_arrays),
                                     (classeval, CLASSEVAL_FILE, "coding tasks", scored_arrays)):
        if path is not None:
            rows = _jsonl(path)
            outcomes_dir().mkdir(parents=True, exist_ok=True)
            _write(outcomes_dir() / file, [r["id"] for r in rows], [r["prompt"] for r in rows], embedder,
                   **arrays(rows))
            print(f"ccr: {len(rows)} {what} embedded into {outcomes_dir() / file}", file=sys.stderr)

NGRAM_FOLDS = 5


def build_ngrams(sets: list[list[Path]]) -> None:
    """The public n-gram map (classifier.ngrams), from the seed training split and the training halves of the real
    prompts (counted as the heads count them), into data/real/ngrams.npz; and each real prompt's logits into its
    set's embeddings file: for a training-half prompt from a map fitted without its fold, for every other prompt
    from the shipped map (which never saw it)."""
    from classifier import ngrams
    from classifier.dataset import load_seed, split
    from classifier.train import REAL_WEIGHT

    texts: dict[str, str] = {}
    for path in (path for files in sets for path in files):
        texts.update({str(r["id"]): str(r["prompt"]) for r in _jsonl(path)})
    labels: dict[str, str] = {}
    for _, labels_file, _ in REAL_SETS:
        for row in _jsonl(real_dir() / labels_file):
            if row.get("task_type") and not is_real_eval(row["id"]):
                labels[row["id"]] = row["task_type"]
    missing = [i for i in labels if i not in texts]
    if missing:
        raise SystemExit(f"ccr: {len(missing)} labelled prompts have no text in the files given (e.g. {missing[0]}): "
                         "give every set's extracted JSONL")
    seed = [ex for ex in split(load_seed())[0] if ex.task_type]
    train = sorted(labels)
    fold = {i: int(hashlib.sha1(f"ngram:{split_key(i)}".encode()).hexdigest()[:8], 16) % NGRAM_FOLDS for i in train}

    def fit(ids: list[str]) -> ngrams.NgramHead:
        return ngrams.fit([ex.prompt for ex in seed] + [texts[i] for i in ids],
                          [str(ex.task_type) for ex in seed] + [labels[i] for i in ids],
                          [1.0] * len(seed) + [float(REAL_WEIGHT)] * len(ids))

    print(f"ccr: fitting the n-gram map on {len(seed)} seed and {len(train)} real prompts, and {NGRAM_FOLDS} more "
          "without a fold each", file=sys.stderr)
    shipped = fit(train)
    shipped.save(real_dir() / ngrams.FILE)
    held_out: dict[str, np.ndarray] = {}
    for k in range(NGRAM_FOLDS):
        ids = [i for i in train if fold[i] == k]
        held_out.update(zip(ids, fit([i for i in train if fold[i] != k]).logits([texts[i] for i in ids]), strict=True))
    for npz, _, _ in REAL_SETS:
        path = real_dir() / npz
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        ids = [str(i) for i in arrays["ids"]]
        rest = [i for i in ids if i not in held_out]
        if any(i not in texts for i in rest):
            raise SystemExit(f"ccr: {path.name} has prompts without text in the files given")
        fresh = dict(zip(rest, shipped.logits([texts[i] for i in rest]), strict=True))
        arrays["ngram"] = np.asarray([held_out[i] if i in held_out else fresh[i] for i in ids], np.float32)
        np.savez_compressed(path, **arrays)
        print(f"ccr: n-gram logits of {len(ids)} prompts written into {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m classifier.public", description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", nargs="*", type=Path, default=[], help="JSONL of extracted real prompts")
    parser.add_argument("--targeted", nargs="*", type=Path, default=[],
                        help="JSONL of extracted real prompts chosen for their classes (data/real/extract_targeted.py)")
    parser.add_argument("--sessions", nargs="*", type=Path, default=[],
                        help="JSONL of prompts from coding-agent chat logs (data/real/extract_sessions.py)")
    parser.add_argument("--wildchat", nargs="*", type=Path, default=[],
                        help="JSONL of prompts developers typed to ChatGPT (data/real/extract_wildchat.py)")
    parser.add_argument("--outcomes", type=Path, help="JSONL of extracted outcome rows (data/outcomes/extract.py)")
    parser.add_argument("--items", type=Path, help="JSONL of many models' per-prompt results "
                        "(data/outcomes/extract_many.py)")
    parser.add_argument("--reasoning", type=Path, help="JSONL of exam questions with their steps (maths) or ARC set "
                        "(data/outcomes/extract_reasoning.py)")
    parser.add_argument("--coding", type=Path, help="JSONL of coding questions with a strong and a weak model's "
                        "grades (data/outcomes/extract_coding.py; evaluation only)")
    parser.add_argument("--classeval", type=Path, help="JSONL of coding tasks with the share of their tests a strong "
                        "and weak models pass (data/outcomes/extract_classeval.py; trains the coding expert)")
    parser.add_argument("--ngrams-only", action="store_true", help="only refit the n-gram map and the real prompts' "
                        "n-gram logits (needs every set of real prompts; no embedding)")
    args = parser.parse_args()
    sets = [args.real, args.targeted, args.sessions, args.wildchat]
    if (args.ngrams_only or any(sets)) and not all(sets):
        # the n-gram map and every real prompt's n-gram logits are fitted from all the sets' text at once: one set
        # re-embedded alone would lose its logits
        parser.error("give the text of every set of real prompts: --real, --targeted, --sessions and --wildchat")
    if not args.ngrams_only:
        build(sets, args.outcomes, args.items, args.reasoning, args.coding, args.classeval)
    if all(sets):
        build_ngrams(sets)


if __name__ == "__main__":
    main()
