"""`ccr classify`, `ccr eval`, `ccr train` and `ccr label`: the classifier from the command line. Progress goes
to stderr; results to stdout."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from router.cli.common import config_file, load_or_explain, reader_left
from router.cli.log_cmd import fetch, from_file
from router.printable import printable


class Progress:
    """Steps as lines on stderr; counters ("embedding 64/2469") as one line rewritten in place on a terminal, or
    a line every few seconds otherwise (CI logs)."""

    COUNTERS = ("embedding ", "classified ")

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.width = 0

    def __call__(self, line: str) -> None:
        counter = line.startswith(self.COUNTERS)
        if self.tty and counter:
            sys.stderr.write("\r" + line.ljust(self.width))
            self.width = len(line)
            sys.stderr.flush()
            return
        now = time.monotonic()
        if not counter or now - self.last >= 2:
            self.done()
            print(line, file=sys.stderr, flush=True)
            self.last = now

    def done(self) -> None:
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def _load(say: Progress) -> tuple[Any, Any, dict[str, Any], str]:
    from classifier.embed import fast
    from classifier.train import load_active, stale_map

    heads, meta, name = load_active(say=say)  # the first use trains the default model
    if (warning := stale_map(meta, name)) is not None:
        say(warning)
    say("loading the embedding model")
    embedder = fast()
    say.done()
    return embedder, heads, meta, name


def _json_line(row: dict[str, Any]) -> str:
    try:  # readable non-ASCII text; \u escapes only for what UTF-8 cannot hold (a lone surrogate in an id)
        return json.dumps(row, ensure_ascii=False).encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row)


def _read_prompts(path: str) -> list[dict[str, Any]]:
    """The input file's rows, all checked before anything is written: a bad line fails the run with its place."""
    from classifier.dataset import DataError, json_lines

    rows, seen, repeated = [], set(), []
    for _, where, row in json_lines(path):
        if "id" not in row or not isinstance(row.get("prompt"), str):
            raise DataError(f'{where}: each line needs "id" and a "prompt" string')
        if not isinstance(row["id"], str | int) or isinstance(row["id"], bool):
            raise DataError(f'{where}: "id" must be a string or an integer, got {json.dumps(row["id"])}')
        if row["id"] in seen:
            repeated.append(row["id"])
        seen.add(row["id"])
        rows.append(row)
    if not rows:
        raise DataError(f"{'stdin' if path == '-' else path}: no prompts (one JSON object per line, with id and prompt)")
    if repeated:
        print(f"ccr: {len(repeated)} line(s) repeat an earlier id (first: {repeated[0]!r}); each line is classified",
              file=sys.stderr)
    return rows


def cmd_classify(args: argparse.Namespace) -> int:
    from classifier.dataset import DataError
    from classifier.train import predict_texts

    if (args.input is None) == (args.prompt is None):
        print("ccr: give a prompt, or --input FILE.jsonl (with --output FILE.jsonl; - reads stdin)", file=sys.stderr)
        return 2
    if args.output and args.input is None:
        print("ccr: --output goes with --input; one prompt's labels print to stdout", file=sys.stderr)
        return 2
    say = Progress()
    try:
        rows = [] if args.input is None else _read_prompts(args.input)
        embedder, heads, _, _ = _load(say)
    except DataError as exc:
        print(f"ccr: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ccr: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        if args.prompt is not None:
            print(json.dumps(predict_texts(heads, embedder, [args.prompt])[0].to_dict(), indent=2))
            return 0
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            for start in range(0, len(rows), 64):
                batch = rows[start:start + 64]
                for row, p in zip(batch, predict_texts(heads, embedder, [r["prompt"] for r in batch]), strict=True):
                    out.write(_json_line({"id": row["id"], **p.to_dict()}) + "\n")
                out.flush()  # what is classified is kept, whatever stops the run later
                say(f"classified {min(start + 64, len(rows))}/{len(rows)}")
        finally:
            if out is not sys.stdout:
                out.close()
    except BrokenPipeError:  # before OSError, which it is: `| head` is no failure to report
        return reader_left()
    except OSError as exc:
        print(f"ccr: {exc.filename or args.output or 'stdout'}: {exc.strerror}", file=sys.stderr)
        return 1
    say.done()
    print(f"classified {len(rows)} prompts" + (f" into {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from classifier.dataset import DataError, load_jsonl, load_seed, split
    from classifier.evaluate import render
    from classifier.train import evaluate, public_report

    say = Progress()
    try:
        embedder, heads, meta, name = _load(say)
        if args.data:
            examples, title = load_jsonl(Path(args.data), "eval"), f"{args.data} (model {name})"
            if not examples:
                raise DataError(f"{args.data}: no prompts (one JSON object per line, with prompt and its labels)")
            if all(ex.task_type is None and ex.complexity is None and ex.strong is None for ex in examples):
                raise DataError(f"{args.data}: no labels to score against: give each line a task_type, a "
                                "complexity or strong (true/false); `ccr classify --input` labels prompts instead")
        else:
            examples, title = split(load_seed())[1], f"seed set, validation split (written here; model {name})"
    except (DataError, OSError) as exc:
        print(f"ccr: {exc}", file=sys.stderr)
        return 1
    report = evaluate(heads, examples, embedder, say)
    public = {} if args.data else public_report(heads)  # real prompts nobody here wrote, and public outcomes
    say.done()
    if args.json:
        print(json.dumps({**report, **({"public": public} if public else {})}, indent=2))
        return 0
    if "real" in public:
        print(render(public["real"], f"real prompts written outside this project, evaluation half (model {name})"))
        print()
    if "real_traffic" in public:  # the half of the prompts taken as their sources had them (no class picked)
        print(render(public["real_traffic"], "the same, only the first set (chat questions, issues, an agent's history)"))
        print()
    if "real_sessions" in public:  # what developers typed to coding agents, from their committed chat logs
        print(render(public["real_sessions"], "the same, only developers' instructions to coding agents"))
        print()
    if "real_wildchat" in public:  # what developers typed to ChatGPT, from its public log
        print(render(public["real_wildchat"], "the same, only developers' requests to a chat assistant"))
        print()
    if "outcomes" in public:
        o = public["outcomes"]
        print(f"difficulty on public strong/weak outcomes ({o['prompts']} held-out prompts): APGR {o['apgr']:.3f} "
              f"(prompt length alone {o['apgr_length']:.3f}; 0.5 is random)")
        _print_sources(o.get("sources", {}))
    if public.get("reasoning"):
        print("difficulty within exam questions (held out; a proxy, not outcomes: maths problems ranked by their "
              "solutions' steps, ARC's Challenge science questions against its Easy ones):")
        _print_sources(public["reasoning"])
    if public.get("coding"):
        print("difficulty on coding work (a strong and a weak model's graded answers to InfiBench's questions, "
              "none trained on; the share of tests their code passes on ClassEval's tasks, which the coding expert "
              "learned from):")
        _print_sources(public["coding"])
    print(render(report, title))
    if not args.data and meta.get("heldout"):
        h = meta["heldout"]
        print(f"\nheld-out set at training time: task_type macro-F1 {h['task_type']['macro_f1']:.3f}, "
              f"complexity macro-F1 {h['complexity']['macro_f1']:.3f} (ccr eval --data data/heldout.jsonl)")
    return 0


def _print_sources(sources: dict[str, dict[str, Any]]) -> None:
    for source, r in sources.items():
        print(f"  {source:<28} {r['prompts']:>4} prompts: APGR {r['apgr']:.3f} (length {r['apgr_length']:.3f})")
    print()


def _derived(args: argparse.Namespace) -> list[dict[str, Any]]:
    data = fetch("/v1/ccr/training")
    if data is not None:
        return list(data)
    from router.decisions import training
    from router.decisions.store import log_path

    if not log_path().exists():
        return []
    config = load_or_explain(config_file(args.config), quiet=True)
    if config is None:
        raise SystemExit("ccr: the config is needed for the models' tiers; fix it, or train with --seed-only")
    return list(from_file(lambda run: training.derive(run, config.tier_of), write=True))


def cmd_train(args: argparse.Namespace) -> int:
    from classifier import versions

    if args.list:
        active = versions.active_name()
        print(f"{'*' if active == versions.DEFAULT else ' '} default   shipped with ccr: the seed set and the public data")
        for v in versions.listing():
            mark = "*" if v["name"] == active else " "
            print(f"{mark} {v['name']}     {v['created']}  score {v['score']:.3f}  the public data and "
                  f"{v['train_examples']} labelled prompts ({', '.join(f'{k} {n}' for k, n in v['train_sources'].items())})")
        return 0
    if args.rollback is not None:
        target = args.rollback or versions.previous()
        if target is None:
            print("ccr: nothing to roll back to: the default model is active and no other was", file=sys.stderr)
            return 1
        try:
            versions.activate(target, "rollback")
        except ValueError as exc:
            print(f"ccr: {exc}", file=sys.stderr)
            return 1
        print(f"active classifier: {target} (restart the router to use it: ccr restart)")
        return 0
    from classifier.dataset import Example
    from classifier.evaluate import headline
    from classifier.train import retrain

    say = Progress()
    derived = [] if args.seed_only else _derived(args)
    extra = [Example(d["id"], d["prompt"], d["task_type"], d["complexity"], d["strong"], d["source"],
                     int(d.get("depth") or 0), int(d.get("context_tokens") or 0)) for d in derived]
    counts: dict[str, int] = {}
    for ex in extra:
        counts[ex.source] = counts.get(ex.source, 0) + 1
    print("labels from the log: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"),
          file=sys.stderr)
    result = retrain(extra, say=say, force=args.force)
    say.done()
    before, after = result["before"], result["after"]
    print(f"{'':<24}{'before':>8}{'after':>8}")
    for name in ("task_type", "complexity"):
        print(f"{name + ' macro-F1':<24}{before[name]['macro_f1']:>8.3f}{after[name]['macro_f1']:>8.3f}")
    if "difficulty" in before and "difficulty" in after:
        print(f"{'difficulty Brier':<24}{before['difficulty']['brier']:>8.3f}{after['difficulty']['brier']:>8.3f}")
    print(f"{'score':<24}{headline(before):>8.3f}{headline(after):>8.3f}")
    if result["own"]:  # the user's own held-out labels decided
        own, b, a = result["own"], result["own"]["before"]["task_type"], result["own"]["after"]["task_type"]
        print(f"your labelled prompts kept out of training ({own['examples']}), task type:")
        print(f"{'  accuracy':<24}{b['accuracy']:>8.3f}{a['accuracy']:>8.3f}")
        print(f"{'  macro-F1':<24}{b['macro_f1']:>8.3f}{a['macro_f1']:>8.3f}")
    personal = result.get("personal")
    if personal:  # the user's outcome labels: refit the difficulty on top of the public heads, or why not
        if personal["used"]:
            print(f"difficulty from your {personal['labels']} outcome labels ({personal['strong']} strong needed): "
                  f"cross-validated AUC {personal['auc_public']:.3f} public heads -> {personal['auc_personal']:.3f} "
                  "with your personal stage")
        else:
            print(f"difficulty: your {personal['labels']} outcome labels ({personal['strong']} strong needed) left "
                  f"the public heads as they are: {personal['why']}", file=sys.stderr)
    if result["heldout"]:
        h = result["heldout"]
        print(f"held-out: task_type macro-F1 {h['task_type']['macro_f1']:.3f}, complexity macro-F1 "
              f"{h['complexity']['macro_f1']:.3f}")
    if result["activated"]:
        print(f"activated {result['version']} (was {result['previous']}); restart the router to use it: ccr restart")
        return 0
    judged_on = ("your labelled prompts kept out of training, or more than 0.05 worse on the validation split"
                 if result["own"] else "the validation split")
    print(f"kept {result['version']} but did not activate it: it scores worse than {result['previous']} on "
          f"{judged_on}. `ccr train --force` activates it anyway; `ccr train --rollback {result['version']}` too.",
          file=sys.stderr)
    return 1


def _ask_label(item: dict[str, Any]) -> dict[str, Any] | str | None:
    from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES

    text = item["prompt"] + (" …" if item.get("chars", 0) > len(item["prompt"]) else "")
    print(f"\n{item['prompt_id']}  {item['ts']}\n{printable(text, lines=True)}\n")
    guess = f"{item['task_type']} {item['complexity']} difficulty {item['difficulty']}" if item["task_type"] else "none"
    print(f"classifier said: {guess}")
    while True:  # a typo asks again rather than losing the prompt
        try:
            answer = input("label as TASK COMPLEXITY [strong|weak]; Enter accepts, s skips, q quits: ").strip().lower()
        except EOFError:
            return "quit"
        if answer == "q":
            return "quit"
        if answer == "s":
            return None
        if not answer and not item["task_type"]:
            print("  the classifier did not label this prompt: type its labels (e.g. 'debug medium'), or s to skip")
            continue
        words = answer.split() if answer else [item["task_type"], item["complexity"]]
        label: dict[str, Any] = {"prompt_id": item["prompt_id"], "task_type": None, "complexity": None,
                                 "strong": None}
        wrong = None
        for w in words:
            if w in TASK_NAMES:
                label["task_type"] = w
            elif w in COMPLEXITY_NAMES:
                label["complexity"] = w
            elif w in ("strong", "weak"):
                label["strong"] = w == "strong"
            elif w is not None:
                wrong = w
        if wrong is None:
            return label
        print(f"  '{printable(wrong)}' is not a task type ({', '.join(TASK_NAMES)}), a complexity "
              f"({', '.join(COMPLEXITY_NAMES)}) or strong/weak")


def _save_label(label: dict[str, Any]) -> None:
    from router.decisions import training

    checked = training.check_label(label)  # before asking anyone: the message is the same either way
    if fetch("/v1/ccr/labels", post=checked) is None:
        from_file(lambda run: training.save_label(run, run, checked), write=True)


def _prompts(limit: int, every: bool) -> list[dict[str, Any]]:
    data = fetch(f"/v1/ccr/prompts?limit={limit}{'&all=1' if every else ''}")
    if data is not None:
        return list(data)
    from router.decisions import training

    return list(from_file(lambda run: training.to_label(run, limit, every), write=True))


def cmd_label(args: argparse.Namespace) -> int:
    from router.wire.errors import InvalidRequest, NotFound

    if args.prompt_id:
        label = {"prompt_id": args.prompt_id, "task_type": args.task_type, "complexity": args.complexity,
                 "strong": args.strong}
        try:
            _save_label(label)
        except (InvalidRequest, NotFound) as exc:
            print(f"ccr: {exc.message}", file=sys.stderr)
            return 2
        print(f"labelled {args.prompt_id}")
        return 0
    items = _prompts(args.limit, args.all)
    if args.list or not sys.stdin.isatty():
        for item in items:
            first = printable(" ".join(item["prompt"].split())[:90])
            print(f"{item['prompt_id']}  {item['task_type'] or '-':<9} {item['complexity'] or '-':<7} "
                  f"{'labelled ' if item['labelled'] else ''}{first}")
        if not items:
            print("no prompts to label (the router logs each turn's prompt while Classifier.logPrompts is on)")
        return 0
    done = 0
    for item in items:
        answer = _ask_label(item)
        if answer == "quit":
            break
        if isinstance(answer, dict):
            _save_label(answer)
            done += 1
    print(f"\n{done} labels saved; `ccr train` uses them")
    return 0
