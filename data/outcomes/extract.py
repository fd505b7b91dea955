#!/usr/bin/env python3
"""Build per-prompt strong-vs-weak outcome rows from public evaluation snapshots.

stdlib + numpy only.  Reads the git snapshots fetched with the search tool's
`fetch` (bare git dirs, read with `git show`) and writes outcomes.jsonl:

  {"id", "source", "pair", "prompt", "strong_score", "weak_score", "gap",
   "strong_needed"}

Sources (all Apache-2.0):
  * tatsu-lab/alpaca_eval @ cd543a149df89434d8a54582c0151c0b945c3d20
      results/<model>/<annotator>/annotations.json  (805 instructions)
  * lmarena/arena-hard-auto @ 4a705dd6963f777aba2ae79259e3013934e6e012
      data/arena-bench-v1/question.jsonl, data/arena-bench-v1/model_judgment/<model>.jsonl
      (300 Chatbot-Arena prompts, GPT-4 single-answer grading 1..10 with a GPT-4
       reference answer; the early "arena-bench-v1" that became Arena-Hard)

strong_needed rule (documented in report.md):
  gap = strong_score - weak_score (both in [0,1]);
  pairwise / binary sources: strong_needed = gap >= 0.5
     (AE direct: judge's P(weak beats strong) <= 0.25;
      AE1 vs davinci: strong beat the reference and weak lost or tied)
  1..10 graded source: strong_needed = strong - weak >= 2 points (gap >= 2/9)
"""
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
AE_GIT = "/work/.mirror/tatsu-lab+alpaca_eval/repo"
AE_COMMIT = "cd543a149df89434d8a54582c0151c0b945c3d20"
AH_GIT = "/work/.mirror/lmarena+arena-hard-auto/repo"
AH_COMMIT = "4a705dd6963f777aba2ae79259e3013934e6e012"


def git_show(gitdir, commit, path):
    out = subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"],
                         capture_output=True, check=True)
    return out.stdout


def pid(text):
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


def ae_pref_to_win(p):
    """AlpacaEval preference: 1 = reference (output_1) better, 2 = model better,
    continuous in [1,2] for weighted annotators; 0 / 1.5 = tie."""
    if p is None:
        return None
    p = float(p)
    if p == 0:
        return 0.5
    return min(1.0, max(0.0, p - 1.0))


def ae_load(model, annotator):
    d = json.loads(git_show(AE_GIT, AE_COMMIT, f"results/{model}/{annotator}/annotations.json"))
    out = {}
    for e in d:
        w = ae_pref_to_win(e.get("preference"))
        if w is None:
            continue
        assert e["generator_2"] == model, (model, e["generator_2"])
        out[e["instruction"]] = (w, e["generator_1"])
    return out


def rows_alpaca_direct(annotator, source, strong_ref, weaks):
    """Annotator compares each model directly with the reference strong model
    (gpt4_1106_preview = GPT-4 Turbo): p = P(weak better than strong)."""
    rows = []
    for weak in weaks:
        d = ae_load(weak, annotator)
        for instr, (p, ref) in d.items():
            assert ref == strong_ref, (ref, strong_ref)
            rows.append(dict(source=source, pair=f"{strong_ref}>{weak}", prompt=instr,
                             strong_score=1.0 - p, weak_score=p))
    return rows


def rows_alpaca_vs_ref(annotator, source, strongs, weaks):
    """Both models are compared with the same third reference (text_davinci_003):
    per-prompt quality = win against that reference."""
    rows = []
    S = {m: ae_load(m, annotator) for m in strongs}
    W = {m: ae_load(m, annotator) for m in weaks}
    for s in strongs:
        for w in weaks:
            for instr in S[s]:
                if instr in W[w]:
                    rows.append(dict(source=source, pair=f"{s}>{w}", prompt=instr,
                                     strong_score=S[s][instr][0], weak_score=W[w][instr][0]))
    return rows


RATING_RE = re.compile(r"\[\[(\d+(?:\.\d+)?)\]\]")


def ah_scores(model):
    d = {}
    for line in git_show(AH_GIT, AH_COMMIT, f"data/arena-bench-v1/model_judgment/{model}.jsonl").splitlines():
        r = json.loads(line)
        s = r.get("score")
        if s is None or s < 0:
            m = RATING_RE.findall(r.get("judgment") or "")
            s = float(m[-1]) if m else None
        if s is not None and 1 <= s <= 10:
            d[r["question_id"]] = (float(s) - 1.0) / 9.0
    return d


def rows_arenabench(strongs, weaks):
    qs = {}
    for line in git_show(AH_GIT, AH_COMMIT, "data/arena-bench-v1/question.jsonl").splitlines():
        q = json.loads(line)
        qs[q["question_id"]] = "\n\n".join(q["turns"])
    S = {m: ah_scores(m) for m in strongs}
    W = {m: ah_scores(m) for m in weaks}
    rows = []
    for s in strongs:
        for w in weaks:
            for qid, text in qs.items():
                if qid in S[s] and qid in W[w]:
                    rows.append(dict(source="arenabench_v1", pair=f"{s}>{w}", prompt=text,
                                     strong_score=S[s][qid], weak_score=W[w][qid]))
    return rows


THRESH = {"alpacaeval2_direct": 0.5, "alpacaeval_cot_direct": 0.5,
          "alpacaeval1_vs_davinci": 0.5, "arenabench_v1": 2.0 / 9.0 - 1e-9}


def main():
    rows = []
    rows += rows_alpaca_direct("weighted_alpaca_eval_gpt4_turbo", "alpacaeval2_direct", "gpt4_1106_preview",
                               ["OpenHermes-2.5-Mistral-7B", "gemma-7b-it", "vicuna-7b-v1.5"])
    rows += rows_alpaca_direct("alpaca_eval_cot_gpt4_turbo_fn", "alpacaeval_cot_direct", "gpt4_1106_preview",
                               ["Mistral-7B-Instruct-v0.2"])
    rows += rows_alpaca_vs_ref("alpaca_eval_gpt4", "alpacaeval1_vs_davinci",
                               ["gpt4_1106_preview", "gpt4"],
                               ["llama-2-7b-chat-hf", "tulu-2-dpo-7b", "phi-2"])
    rows += rows_arenabench(["gpt-4-turbo", "gpt-4-0314"],
                            ["Mistral-7B-Instruct-v0.1", "openchat_3.5", "Starling-LM-7B-alpha"])
    out = os.path.join(HERE, "outcomes.jsonl")
    with open(out, "w") as f:
        for r in rows:
            r["gap"] = r["strong_score"] - r["weak_score"]
            r["strong_needed"] = int(r["gap"] >= THRESH[r["source"]])
            r["id"] = pid(r["prompt"])
            f.write(json.dumps({k: r[k] for k in ["id", "source", "pair", "prompt", "strong_score",
                                                  "weak_score", "gap", "strong_needed"]}) + "\n")
    # summary
    from collections import defaultdict
    agg = defaultdict(list)
    for r in rows:
        agg[(r["source"], r["pair"])].append(r)
    for (s, p), rs in sorted(agg.items()):
        n = len(rs)
        print(f"{s:24s} {p:50s} n={n:4d} strong={sum(r['strong_score'] for r in rs)/n:.3f} "
              f"weak={sum(r['weak_score'] for r in rs)/n:.3f} strong_needed={sum(r['strong_needed'] for r in rs)/n:.2f}")
    print("wrote", out, len(rows), "rows", len({r['id'] for r in rows}), "distinct prompts", file=sys.stderr)


if __name__ == "__main__":
    main()
