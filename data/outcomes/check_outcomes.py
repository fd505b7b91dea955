#!/usr/bin/env python3
"""Real per-question outcomes of strong and weak models, to check the difficulty order on (never trained on).

Two steps. Extraction (stdlib only) reads bare git snapshots (fetched with the search tool's `fetch`, read with
`git show`) and writes one JSONL row per question, {"id", "prompt", "outcomes": {model: 1.0 right | 0.0 wrong}}:

    python data/outcomes/check_outcomes.py extract checks.jsonl
    ccr classify --input checks.jsonl --output scored.jsonl
    python data/outcomes/check_outcomes.py score checks.jsonl scored.jsonl   # APGR of ccr's difficulty and length

Sources:
  * veronica320/Faithful-COT @ 301784317c99cf348cfad92a1b3e8810900e095b, MIT (LICENSE, (c) 2023 Qing Lyu):
      SVAMP's 1,000 and MultiArith's 596 maths word problems (data/<set>/test.jsonl, the gold after "####"),
      and each model's answers (output_dir/<set>/test/<model>_<prompt>/predictions.jsonl): GPT-4 against
      code-davinci-001, text-davinci-002 and gpt-3.5-turbo, prompted with chain of thought ("COT"), plainly
      ("standard") and by the paper's method ("NL+SL"). Its GSM8K outputs are GSM8K's test split: never read.
  * lamalab-org/chembench-paper @ 8fe22914b81978d180e6182ea982eb58e2e0e8dc, MIT (LICENSE): ChemBench's 1,787
      chemistry questions that have a right answer (src/data/chem-bench-main/data/; the 1,001 "preference"
      questions have none and are left out), as a user would ask them (the question, then its choices as A., B.
      ...), and each model's `all_correct` from the benchmark's reports (reports/<model>/<model>.json): GPT-4,
      GPT-4o and Claude 3.5 against Mixtral-8x7B, Llama-3-8B, Gemma-7B and GPT-3.5. The questions carry the
      benchmark's canary: they are used to check the order only, never to train.
"""
import json
import os
import subprocess
import sys

MIRRORS = os.environ.get("CCR_MIRRORS", "/work/.mirror")
FCOT = ("veronica320+Faithful-COT", "301784317c99cf348cfad92a1b3e8810900e095b")
FCOT_SETS = ("SVAMP", "MultiArith")
FCOT_RUNS = [f"{model}_{prompt}" for model in ("gpt4", "code001", "text002", "gpt-3.5-turbo")
             for prompt in ("standard", "COT", "NL+SL")]
CHEM = ("lamalab-org+chembench-paper", "8fe22914b81978d180e6182ea982eb58e2e0e8dc")
CHEM_ROOT = "src/data/chem-bench-main"
CHEM_MODELS = ("gpt-4", "gpt-4o", "claude3.5", "mixtral-8x7b-instruct", "llama3-8b-instruct", "gemma-1-1-7b-it",
               "gpt-3.5-turbo")
PAIRS = {"SVAMP": [("gpt4_COT", "code001_COT"), ("gpt4_NL+SL", "code001_NL+SL"), ("gpt4_COT", "text002_COT")],
         "MultiArith": [("gpt4_COT", "code001_COT"), ("gpt4_NL+SL", "code001_NL+SL")],
         "chem": [("gpt-4", "mixtral-8x7b-instruct"), ("gpt-4", "llama3-8b-instruct"), ("gpt-4", "gemma-1-1-7b-it"),
                  ("gpt-4o", "mixtral-8x7b-instruct"), ("claude3.5", "llama3-8b-instruct"),
                  ("gpt-4", "gpt-3.5-turbo")]}


def git(source, *args):
    name, _ = source
    return subprocess.run(["git", f"--git-dir={os.path.join(MIRRORS, name, 'repo')}", *args],
                          capture_output=True, text=True, check=True).stdout


def show(source, path):
    return git(source, "show", f"{source[1]}:{path}")


def number(text):
    try:
        return float(str(text).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def fcot_rows():
    for name in FCOT_SETS:
        gold = {}
        for line in show(FCOT, f"data/{name}/test.jsonl").splitlines():
            if line.strip():
                row = json.loads(line)
                gold[row["id"]] = row
        outcomes = {i: {} for i in gold}
        for run in FCOT_RUNS:
            for line in show(FCOT, f"output_dir/{name}/test/{run}/predictions.jsonl").splitlines():
                if line.strip():
                    row = json.loads(line)
                    want, got = number(gold[row["id"]]["answer"].split("####")[-1]), number(row.get("answer"))
                    outcomes[row["id"]][run] = float(want is not None and got is not None and abs(want - got) < 1e-4)
        for i, row in gold.items():
            yield {"id": f"{name}-{i}", "prompt": row["question"], "outcomes": outcomes[i]}


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


def score(checks, scored):
    import numpy as np

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from classifier.evaluate import apgr

    with open(checks, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    with open(scored, encoding="utf-8") as lines:
        difficulty = {row["id"]: row["difficulty"] for row in map(json.loads, filter(str.strip, lines))}
    for name, pairs in PAIRS.items():
        part = [r for r in rows if r["id"].split("-")[0] == name]
        for strong, weak in pairs:
            have = [r for r in part if strong in r["outcomes"] and weak in r["outcomes"]]
            s = np.asarray([r["outcomes"][strong] for r in have])
            w = np.asarray([r["outcomes"][weak] for r in have])
            d = np.asarray([difficulty[r["id"]] for r in have])
            length = np.asarray([len(r["prompt"]) for r in have], dtype=float)
            print(f"{name:<10} {strong} against {weak}: {len(have)} questions, right {s.mean():.2f} / {w.mean():.2f}; "
                  f"APGR ccr {apgr(d, s, w):.3f}, length {apgr(length, s, w):.3f}")


def main(argv):
    if len(argv) == 2 and argv[0] == "extract":
        with open(argv[1], "w", encoding="utf-8") as out:
            for row in (*fcot_rows(), *chem_rows()):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif len(argv) == 3 and argv[0] == "score":
        score(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
