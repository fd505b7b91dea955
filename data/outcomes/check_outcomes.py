#!/usr/bin/env python3
"""Real per-question outcomes of strong and weak models, to check the difficulty order on (never trained on).

Two steps. Extraction (stdlib only) reads bare git snapshots (fetched with the search tool's `fetch`, read with
`git show`) and writes one JSONL row per question, {"id", "prompt", "outcomes": {model: 1.0 right | 0.0 wrong}}:

    python data/outcomes/check_outcomes.py extract checks.jsonl
    ccr classify --input checks.jsonl --output scored.jsonl
    python data/outcomes/check_outcomes.py score checks.jsonl scored.jsonl   # APGR of ccr's difficulty and length
    python data/outcomes/check_outcomes.py loop checks.jsonl   # what 250 outcome labels teach `ccr train` (~15 min)

Sources:
  * veronica320/Faithful-COT @ 301784317c99cf348cfad92a1b3e8810900e095b, MIT (LICENSE, (c) 2023 Qing Lyu):
      maths word problems, SVAMP's 1,000, MultiArith's 596, ASDiv's 2,023 with one answer (data/<set>/test.jsonl,
      the gold after "####") and AQuA's 254 multiple-choice algebra questions (the question, then its choices;
      the gold a letter), and each model's answers (output_dir/<set>/test/<model>_<prompt>/predictions.jsonl): GPT-4
      against code-davinci-001, text-davinci-002 and gpt-3.5-turbo, prompted with chain of thought ("COT"),
      plainly ("standard") and by the paper's method ("NL+SL"). Its GSM8K outputs are GSM8K's test split: never
      read.
  * lamalab-org/chembench-paper @ 8fe22914b81978d180e6182ea982eb58e2e0e8dc, MIT (LICENSE): ChemBench's 1,787
      chemistry questions that have a right answer (src/data/chem-bench-main/data/; the 1,001 "preference"
      questions have none and are left out), as a user would ask them (the question, then its choices as A., B.
      ...), and each model's `all_correct` from the benchmark's reports (reports/<model>/<model>.json): GPT-4,
      GPT-4o and Claude 3.5 against Mixtral-8x7B, Llama-3-8B, Gemma-7B and GPT-3.5. The questions carry the
      benchmark's canary: they are used to check the order only, never to train.
  * wenhuchen/TheoremQA @ ed325df9aa816996b6bc2b60af1701e55c09a372, MIT (LICENSE, (c) 2023 Wenhu Chen; the model
      outputs were removed from the repository later, so this older commit): 800 university-level maths, physics,
      electrical engineering, computer science and finance questions, each model's extracted answer and the gold
      (outputs/<model>_s0_e-1_<date>.jsonl.corrected), scored as the benchmark scores them (a number within 4%, a
      list item by item, true/false exactly): GPT-4 against ChatGPT, Claude-instant-v1 and GPT-3.5, prompted to
      answer, and GPT-4 against ChatGPT prompted to write a program ("PoT"). The strong model gets fewer than half
      right: the regime where "strong needed" is not "hardest".
  * FloridSleeves/LLMDebugger @ 49ac191f181d47911cf38e5b9944fbbe6d4a6e60, Apache-2.0 (LICENSE): HumanEval's 164
      and MBPP's 500 function-writing tasks as the models were given them (a signature and a docstring;
      input_data/<set>/dataset/probs.jsonl) and whether each model's program passed the tests
      (input_data/<set>/seed/<model>/seed.jsonl, `is_solved`): on HumanEval GPT-4-Turbo against StarCoder,
      CodeLlama and GPT-3.5-Turbo, on MBPP GPT-3.5-Turbo against StarCoder and CodeLlama.
"""
import json
import os
import subprocess
import sys

MIRRORS = os.environ.get("CCR_MIRRORS", "/work/.mirror")
FCOT = ("veronica320+Faithful-COT", "301784317c99cf348cfad92a1b3e8810900e095b")
FCOT_SETS = ("SVAMP", "MultiArith", "ASDiv", "AQUA")
FCOT_RUNS = [f"{model}_{prompt}" for model in ("gpt4", "code001", "text002", "gpt-3.5-turbo")
             for prompt in ("standard", "COT", "NL+SL")]
TQA = ("wenhuchen+TheoremQA", "ed325df9aa816996b6bc2b60af1701e55c09a372")
TQA_RUNS = ("GPT4", "ChatGPT", "anthropic_instant-v1", "GPT3.5", "GPT4_PoT", "ChatGPT_PoT")
DEBUGGER = ("FloridSleeves+LLMDebugger", "49ac191f181d47911cf38e5b9944fbbe6d4a6e60")
DEBUGGER_RUNS = {"humaneval": ("gpt-4-1106-preview", "gpt-3.5-turbo-0613", "codellama", "starcoder"),
                 "mbpp": ("gpt-3.5-turbo-0613", "codellama", "starcoder")}
CHEM = ("lamalab-org+chembench-paper", "8fe22914b81978d180e6182ea982eb58e2e0e8dc")
CHEM_ROOT = "src/data/chem-bench-main"
CHEM_MODELS = ("gpt-4", "gpt-4o", "claude3.5", "mixtral-8x7b-instruct", "llama3-8b-instruct", "gemma-1-1-7b-it",
               "gpt-3.5-turbo")
# the same five pairs on each maths set: the strongest model against the oldest one, alike prompted, and against
# two middling ones prompted alike or plainly
MATHS_PAIRS = [("gpt4_COT", "code001_COT"), ("gpt4_NL+SL", "code001_NL+SL"), ("gpt4_COT", "text002_COT"),
               ("gpt4_COT", "gpt-3.5-turbo_standard"), ("gpt4_NL+SL", "text002_standard")]
# APGR divides by the strong model's lead: below this it swings from 0.2 to 1.0 on a few questions
MIN_GAP = 0.1
PAIRS = {**{name: MATHS_PAIRS for name in FCOT_SETS},
         "chem": [("gpt-4", "mixtral-8x7b-instruct"), ("gpt-4", "llama3-8b-instruct"), ("gpt-4", "gemma-1-1-7b-it"),
                  ("gpt-4o", "mixtral-8x7b-instruct"), ("claude3.5", "llama3-8b-instruct"),
                  ("gpt-4", "gpt-3.5-turbo")],
         "humaneval": [("gpt-4-1106-preview", "starcoder"), ("gpt-4-1106-preview", "codellama"),
                       ("gpt-4-1106-preview", "gpt-3.5-turbo-0613")],
         "mbpp": [("gpt-3.5-turbo-0613", "starcoder"), ("gpt-3.5-turbo-0613", "codellama")],
         "tqa": [("GPT4", "ChatGPT"), ("GPT4", "anthropic_instant-v1"), ("GPT4", "GPT3.5"), ("GPT4_PoT", "ChatGPT_PoT")]}


def git(source, *args):
    name, _ = source
    return subprocess.run(["git", f"--git-dir={os.path.join(MIRRORS, name, 'repo')}", *args],
                          capture_output=True, text=True, check=True).stdout


def show(source, path):
    return git(source, "show", f"{source[1]}:{path}")


def show_jsonl(source, path):
    """A JSONL file of a snapshot, one object per non-blank line."""
    return [json.loads(line) for line in show(source, path).splitlines() if line.strip()]


def number(text):
    try:
        return float(str(text).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def fcot_prompt(row):
    """The question as a user would ask it: AQuA's with its choices on lines of their own."""
    if "options" not in row:
        return row["question"]
    return row["question"].split("\n# Answer option:")[0] + "\n" + "\n".join(row["options"])


def right(gold, answer):
    if gold.strip().isalpha():  # AQuA: a choice's letter
        return str(answer).strip().upper()[:1] == gold.strip().upper()
    want, got = number(gold.split("####")[-1]), number(answer)
    return want is not None and got is not None and abs(want - got) < 1e-4


def fcot_rows():
    for name in FCOT_SETS:
        # not ASDiv's 74 asking for several numbers at once
        gold = {row["id"]: row for row in show_jsonl(FCOT, f"data/{name}/test.jsonl") if isinstance(row["answer"], str)}
        outcomes = {i: {} for i in gold}
        for run in FCOT_RUNS:
            for row in show_jsonl(FCOT, f"output_dir/{name}/test/{run}/predictions.jsonl"):
                if row["id"] in gold:
                    outcomes[row["id"]][run] = float(right(gold[row["id"]]["answer"], row.get("answer")))
        for i, row in gold.items():
            yield {"id": f"{name}-{i}", "prompt": fcot_prompt(row), "outcomes": outcomes[i]}


def chem_rows():
    questions = {}
    for path in git(CHEM, "ls-tree", "-r", "--name-only", CHEM[1], f"{CHEM_ROOT}/data").splitlines():
        if path.endswith(".json"):
            data = json.loads(show(CHEM, path))
            example = data["examples"][0]
            prompt = example["input"]
            if example.get("target_scores"):
                prompt += "\n" + "\n".join(f"{chr(65 + k)}. {choice}" for k, choice in enumerate(example["target_scores"]))
            parent, stem = path.split("/")[-2], path.split("/")[-1][:-len(".json")]
            questions[f"{parent}-{stem}-{data['name']}"] = prompt  # the reports' question_name
    outcomes = {}
    for model in CHEM_MODELS:
        for score in json.loads(show(CHEM, f"{CHEM_ROOT}/reports/{model}/{model}.json"))["model_scores"]:
            name = score["question_name"]
            if not name.startswith("preference") and name in questions:
                outcomes.setdefault(name, {})[model] = float(score["all_correct"])
    for k, (name, result) in enumerate(sorted(outcomes.items())):
        yield {"id": f"chem-{k}", "prompt": questions[name], "outcomes": result}


def within(got, gold):
    """TheoremQA's own comparison: true/false exactly, a number within 4% (exactly, for 0), a list item by item."""
    if isinstance(gold, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(gold, bool) and got == gold
    if isinstance(gold, (int, float)):
        if not isinstance(got, (int, float)):
            return False
        try:
            return abs(got - gold) <= 0.04 * abs(gold) if gold else abs(got) < 1e-6
        except OverflowError:  # an integer too large for a float
            return False
    if isinstance(gold, list):
        return isinstance(got, list) and len(got) == len(gold) and all(map(within, got, gold))
    return got == gold


def tqa_rows():
    files = git(TQA, "ls-tree", "--name-only", TQA[1], "outputs/").split()
    questions, outcomes = {}, {}
    for run in TQA_RUNS:
        (path,) = [f for f in files if f.startswith(f"outputs/{run}_s0_") and f.endswith(".corrected")]
        for row in json.loads(show(TQA, path)):
            questions[row["id"]] = row["question"]
            outcomes.setdefault(row["id"], {})[run] = float(within(row["prediction"], row["answer"]))
    for k, name in enumerate(sorted(questions)):
        yield {"id": f"tqa-{k}", "prompt": questions[name], "outcomes": outcomes[name]}


def debugger_rows():
    for name, runs in DEBUGGER_RUNS.items():
        prompts = {row["task_id"]: row["prompt"] for row in show_jsonl(DEBUGGER, f"input_data/{name}/dataset/probs.jsonl")}
        outcomes = {}
        for run in runs:
            for row in show_jsonl(DEBUGGER, f"input_data/{name}/seed/{run}/seed.jsonl"):
                outcomes.setdefault(row["task_id"], {})[run] = float(row["is_solved"] is True)
        for task, prompt in prompts.items():
            if task in outcomes:
                yield {"id": f"{name}-{task.split('/')[-1]}", "prompt": prompt, "outcomes": outcomes[task]}


def read(path):
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def repository():
    """The classifier, from the repository this script sits in."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def score(checks, scored):
    import numpy as np

    repository()
    from classifier.evaluate import apgr

    rows = read(checks)
    difficulty = {row["id"]: row["difficulty"] for row in read(scored)}
    for name, pairs in PAIRS.items():
        part = [r for r in rows if r["id"].split("-")[0] == name]
        scores = []
        for strong, weak in pairs:
            have = [r for r in part if strong in r["outcomes"] and weak in r["outcomes"]]
            s = np.asarray([r["outcomes"][strong] for r in have])
            w = np.asarray([r["outcomes"][weak] for r in have])
            d = np.asarray([difficulty[r["id"]] for r in have])
            length = np.asarray([len(r["prompt"]) for r in have], dtype=float)
            if s.mean() - w.mean() < MIN_GAP:
                print(f"{name:<10} {strong} against {weak}: right {s.mean():.2f} / {w.mean():.2f}, too close to score")
                continue
            scores.append((apgr(d, s, w), apgr(length, s, w)))
            print(f"{name:<10} {strong} against {weak}: {len(have)} questions, right {s.mean():.2f} / {w.mean():.2f}; "
                  f"APGR ccr {scores[-1][0]:.3f}, length {scores[-1][1]:.3f}")
        if scores:
            ours, length = np.mean(scores, axis=0)
            print(f"{name:<10} mean of {len(scores)} pairs: APGR ccr {ours:.3f}, length {length:.3f}")


# the loop (`ccr train`'s personal stage) with each set as a user's traffic: one pair a set, its strong model's
# right answers where the weak one's were wrong labelled "strong needed"
LOOP_PAIRS = {"SVAMP": ("gpt4_COT", "code001_COT"), "ASDiv": ("gpt4_COT", "code001_COT"),
              "MultiArith": ("gpt4_COT", "code001_COT"), "chem": ("gpt-4", "llama3-8b-instruct"),
              "tqa": ("GPT4", "ChatGPT"), "mbpp": ("gpt-3.5-turbo-0613", "starcoder")}
LOOP_LABELS, LOOP_DRAWS, RANDOM_DRAWS = 250, 5, 20


def loop(checks):
    """The shipped recipe's heads, which never saw these questions; per set, LOOP_DRAWS times: LOOP_LABELS questions
    from one half labelled as `ccr label --strong` / `--no-strong` would label them, the personal stage fitted on
    them (kept only when its tests pass), and the pair's APGR on the other half before and after; then random labels.
    Each stage is thrown away after its draw: nothing here trains anything kept."""
    import numpy as np

    repository()
    from classifier.dataset import Example, load_seed, split
    from classifier.embed import shared
    from classifier.evaluate import apgr
    from classifier.train import fit, matrix

    def say(line):
        print(f"ccr: {line}", file=sys.stderr, flush=True)

    rows = read(checks)
    heads = fit(split(load_seed())[0], shared(), say)
    X = matrix([Example(r["id"], r["prompt"], None, None, None) for r in rows], shared(), say)
    for name, (strong, weak) in LOOP_PAIRS.items():
        at = np.asarray([i for i, r in enumerate(rows) if r["id"].split("-")[0] == name
                         and strong in r["outcomes"] and weak in r["outcomes"]])
        s = np.asarray([rows[i]["outcomes"][strong] for i in at])
        w = np.asarray([rows[i]["outcomes"][weak] for i in at])
        draws = []
        for draw in range(LOOP_DRAWS):
            order = np.random.default_rng(draw).permutation(len(at))
            log, unseen = order[:len(at) // 2][:LOOP_LABELS], order[len(at) // 2:]
            heads.personal = None
            before = apgr(heads.strong_probability(X[at[unseen]]), s[unseen], w[unseen])
            report = heads.fit_personal(X[at[log]], list(s[log] > w[log]))
            draws.append((before, apgr(heads.strong_probability(X[at[unseen]]), s[unseen], w[unseen]), report["used"]))
            print(f"{name:<10} draw {draw}: {draws[-1][0]:.3f} -> {draws[-1][1]:.3f}, stage kept: {report['used']}",
                  flush=True)
        before, after, kept = np.asarray(draws).T
        print(f"{name:<10} {strong} against {weak}: {before.mean():.3f} -> {after.mean():.3f} "
              f"(+{(after - before).mean():.3f} ± {(after - before).std():.3f}), kept {int(kept.sum())} of {LOOP_DRAWS}",
              flush=True)
    kept = 0
    for draw in range(RANDOM_DRAWS):
        rng = np.random.default_rng(100 + draw)
        kept += heads.fit_personal(X[rng.choice(len(rows), LOOP_LABELS, replace=False)],
                                   list(rng.random(LOOP_LABELS) < 0.4))["used"]
    heads.personal = None
    print(f"random labels: the stage kept {kept} times of {RANDOM_DRAWS}")


def main(argv):
    if len(argv) == 2 and argv[0] == "extract":
        with open(argv[1], "w", encoding="utf-8") as out:
            for row in (*fcot_rows(), *chem_rows(), *tqa_rows(), *debugger_rows()):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif len(argv) == 3 and argv[0] == "score":
        score(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "loop":
        loop(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
