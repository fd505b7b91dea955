#!/usr/bin/env python3
"""Extract a third batch of ccr task-type prompts, aimed at the classes real traffic has few of.

Stdlib only. Reads bare git mirrors (``git --git-dir=... show COMMIT:path``), never a work tree, never runs
anything from the snapshots. Same conventions as extract_first.py / extract_more.py: the SOURCES table names
repository, pinned commit, file(s), licence and take-N; candidates are ordered by sha256 of a stable key; ids
are ``<source>-<first 10 hex of sha256(key)>``; prompts are capped at 4,000 characters.

- ``cmds``: the slash commands of an agent-command collection (each file is the text a developer sends to a
  coding agent as the user turn when they type the command; review, documentation, planning, refactoring,
  testing and debugging commands).
- ``copilot``: the prompt files of GitHub's community collection of Copilot prompts (``/create-readme``,
  ``/review-and-refactor``, ``/create-implementation-plan`` …), at the last commit before they moved to skills;
  the YAML front matter (metadata for the editor, not sent as typed text) is dropped.
- ``cctpl``: Claude Code slash commands of a public template collection (documentation, review, planning,
  testing, performance and security commands among them).
- ``oasst``: first prompts written by Open Assistant's volunteers (its manual-evaluation prompt sets): chat
  requests of every kind, software and not.
- ``arena2``: Chatbot Arena users' prompts of Arena-Hard-Auto v2.0 (chosen by its authors for being hard, in three
  categories): every coding prompt, and 60 each of its maths and creative-writing prompts (not software work:
  they teach `other`); prompts already in v0.1 (extract_first.py's ``arenahard``) are left out.

These are labelled by data/LABELLING.md in labels_targeted.jsonl. They were chosen for their classes, so their
mix is not real traffic's: the training code keeps them out of the task prior (classifier/train.py).

Usage:
    python3 extract_targeted.py [--mirrors DIR] [--out prompts.jsonl]
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_first import cap, git_show, h, mirror_path, stable_id

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MIRRORS = "/work/.mirror"

SOURCES = {
    "cmds": {
        "repo": "wshobson/commands",
        "commit": "7a9fe3f30158e9b9289566b636da3cf4dbd33446",
        "dirs": ["tools/", "workflows/"],
        "licence": "MIT (LICENSE)",
        "take": None,  # all
    },
    "copilot": {
        "repo": "github/awesome-copilot",
        "commit": "e13e02bea62b7ac6200ac94131a87a8096d4c992",
        "dirs": ["prompts/"],
        "licence": "MIT (LICENSE, Copyright GitHub, Inc.)",
        "take": None,  # all
    },
    "cctpl": {
        "repo": "davila7/claude-code-templates",
        "commit": "c2b584d4b8493e98a885b1b9aabb0736bccfe7cf",
        # the Claude Code commands of the documentation, git, performance, project-management, security, team,
        # testing, database and utility groups that ask for one deliverable (commands that only run git or
        # housekeeping operations, or only load context, are left out)
        "files": [
            "cli-tool/components/commands/analysis/supply-chain-audit.md",
            "cli-tool/components/commands/database/snowflake-semanticview.md",
            "cli-tool/components/commands/database/supabase-backup-manager.md",
            "cli-tool/components/commands/database/supabase-migration-assistant.md",
            "cli-tool/components/commands/database/supabase-performance-optimizer.md",
            "cli-tool/components/commands/database/supabase-schema-sync.md",
            "cli-tool/components/commands/database/supabase-security-audit.md",
            "cli-tool/components/commands/database/supabase-type-generator.md",
            "cli-tool/components/commands/design/web-design-reviewer.md",
            "cli-tool/components/commands/documentation/create-architecture-documentation.md",
            "cli-tool/components/commands/documentation/create-onboarding-guide.md",
            "cli-tool/components/commands/documentation/doc-api.md",
            "cli-tool/components/commands/documentation/docs-maintenance.md",
            "cli-tool/components/commands/documentation/generate-api-documentation.md",
            "cli-tool/components/commands/documentation/interactive-documentation.md",
            "cli-tool/components/commands/documentation/migration-guide.md",
            "cli-tool/components/commands/documentation/troubleshooting-guide.md",
            "cli-tool/components/commands/documentation/update-docs.md",
            "cli-tool/components/commands/git-workflow/commit.md",
            "cli-tool/components/commands/git-workflow/create-pr.md",
            "cli-tool/components/commands/git-workflow/fix-github-issue.md",
            "cli-tool/components/commands/git-workflow/git-bisect-helper.md",
            "cli-tool/components/commands/git-workflow/pr-review.md",
            "cli-tool/components/commands/performance/add-performance-monitoring.md",
            "cli-tool/components/commands/performance/implement-caching-strategy.md",
            "cli-tool/components/commands/performance/optimize-api-performance.md",
            "cli-tool/components/commands/performance/optimize-build.md",
            "cli-tool/components/commands/performance/optimize-bundle-size.md",
            "cli-tool/components/commands/performance/optimize-database-performance.md",
            "cli-tool/components/commands/performance/optimize-memory-usage.md",
            "cli-tool/components/commands/performance/performance-audit.md",
            "cli-tool/components/commands/performance/setup-cdn-optimization.md",
            "cli-tool/components/commands/performance/system-behavior-simulator.md",
            "cli-tool/components/commands/project-management/add-package.md",
            "cli-tool/components/commands/project-management/add-to-changelog.md",
            "cli-tool/components/commands/project-management/create-feature.md",
            "cli-tool/components/commands/project-management/create-jtbd.md",
            "cli-tool/components/commands/project-management/create-prd.md",
            "cli-tool/components/commands/project-management/create-prp.md",
            "cli-tool/components/commands/project-management/init-project.md",
            "cli-tool/components/commands/project-management/project-health-check.md",
            "cli-tool/components/commands/project-management/project-timeline-simulator.md",
            "cli-tool/components/commands/project-management/project-to-linear.md",
            "cli-tool/components/commands/project-management/release.md",
            "cli-tool/components/commands/security/add-authentication-system.md",
            "cli-tool/components/commands/security/dependency-audit.md",
            "cli-tool/components/commands/security/penetration-test.md",
            "cli-tool/components/commands/security/secrets-scanner.md",
            "cli-tool/components/commands/security/security-audit.md",
            "cli-tool/components/commands/security/security-hardening.md",
            "cli-tool/components/commands/team/architecture-review.md",
            "cli-tool/components/commands/team/dependency-mapper.md",
            "cli-tool/components/commands/team/estimate-assistant.md",
            "cli-tool/components/commands/team/session-learning-capture.md",
            "cli-tool/components/commands/team/sprint-planning.md",
            "cli-tool/components/commands/team/standup-report.md",
            "cli-tool/components/commands/testing/add-mutation-testing.md",
            "cli-tool/components/commands/testing/add-property-based-testing.md",
            "cli-tool/components/commands/testing/e2e-setup.md",
            "cli-tool/components/commands/testing/generate-test-cases.md",
            "cli-tool/components/commands/testing/generate-tests.md",
            "cli-tool/components/commands/testing/setup-comprehensive-testing.md",
            "cli-tool/components/commands/testing/setup-load-testing.md",
            "cli-tool/components/commands/testing/setup-visual-testing.md",
            "cli-tool/components/commands/testing/test-coverage.md",
            "cli-tool/components/commands/testing/test-quality-analyzer.md",
            "cli-tool/components/commands/testing/testing_plan_integration.md",
            "cli-tool/components/commands/testing/webapp-testing.md",
            "cli-tool/components/commands/testing/write-tests.md",
            "cli-tool/components/commands/utilities/architecture-scenario-explorer.md",
            "cli-tool/components/commands/utilities/check-file.md",
            "cli-tool/components/commands/utilities/clean.md",
            "cli-tool/components/commands/utilities/code-review.md",
            "cli-tool/components/commands/utilities/debug-error.md",
            "cli-tool/components/commands/utilities/directory-deep-dive.md",
            "cli-tool/components/commands/utilities/explain-code.md",
            "cli-tool/components/commands/utilities/fix-issue.md",
            "cli-tool/components/commands/utilities/generate-linear-worklog.md",
            "cli-tool/components/commands/utilities/initref.md",
            "cli-tool/components/commands/utilities/refactor-code.md",
            "cli-tool/components/commands/utilities/screenshot-analyzer.md",
            "cli-tool/components/commands/utilities/ultra-think.md",
        ],
        "licence": "MIT (LICENSE, Copyright (c) 2025 Daniel (San) Avila)",
        "take": None,  # all
    },
    "oasst": {
        "repo": "LAION-AI/Open-Assistant",
        "commit": "f1e6ed9526f5817531f3ab85441a40b3671ddccb",
        "paths": ["model/model_eval/manual/data/en_100_text.jsonl",
                  "model/model_eval/manual/data/prompt_lottery_en_250_text.jsonl"],
        "licence": "Apache-2.0 (LICENSE)",
        "take": 200,
    },
    "arena2": {
        "repo": "lmarena/arena-hard-auto",
        "commit": "196f6b826783b3da7310e361a805fa36f0be83f3",
        "paths": ["data/arena-hard-v2.0/question.jsonl", "data/arena-hard-v0.1/question.jsonl"],
        "licence": "Apache-2.0 (LICENSE)",
        "take": None,  # per category, below
        "per_category": {"coding": None, "math": 60, "creative_writing": 60},
    },
}

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def ls(gitdir, commit, folder):
    import subprocess

    out = subprocess.run(["git", "--git-dir=" + gitdir, "ls-tree", "--name-only", commit, folder],
                         check=True, capture_output=True).stdout.decode()
    return sorted(p for p in out.splitlines() if p.endswith(".md"))


def extract_files(src, gitdir):
    """Each markdown file is one prompt, without its front matter; key = path."""
    items = []
    paths = [p for folder in src.get("dirs", []) for p in ls(gitdir, src["commit"], folder)]
    for path in paths + src.get("files", []):
        text = FRONT_MATTER.sub("", git_show(gitdir, src["commit"], path)).strip()
        if text:
            items.append((path, text))
    return items


def extract_oasst(src, gitdir):
    """One JSON string per line; key = the text (deduplicated, case-folded)."""
    items, seen = [], set()
    for path in src["paths"]:
        for line in git_show(gitdir, src["commit"], path).splitlines():
            if not line.strip():
                continue
            text = json.loads(line).strip()
            if text and text.lower() not in seen:
                seen.add(text.lower())
                items.append((text, text))
    return items


def extract_arena2(src, gitdir):
    """v2.0's prompts not already in v0.1, the first N of each subcategory by hash; key = uid."""
    def rows(path):
        return [json.loads(line) for line in git_show(gitdir, src["commit"], path).split("\n") if line.strip()]

    known = {" ".join(r["prompt"].split()).lower() for r in rows(src["paths"][1])}
    items = []
    for category, take in src["per_category"].items():
        fresh = sorted(((r["uid"], r["prompt"]) for r in rows(src["paths"][0])
                        if r["subcategory"] == category and " ".join(r["prompt"].split()).lower() not in known),
                       key=lambda kv: h(kv[0]))
        items += fresh if take is None else fresh[:take]
    return items


EXTRACTORS = {"cmds": extract_files, "copilot": extract_files, "cctpl": extract_files, "oasst": extract_oasst,
              "arena2": extract_arena2}


def run(description, sources, extractors, default_out, argv=None):
    """Extract every source of `sources` with its extractor, sample, and write the JSONL (shared with
    extract_wildchat.py)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS)
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args(argv)
    rows = []
    for name, src in sources.items():
        items = sorted(extractors[name](src, mirror_path(args.mirrors, src["repo"])), key=lambda kv: h(kv[0]))
        chosen = items if src["take"] is None else items[:src["take"]]
        for key, prompt in chosen:
            rows.append({"id": src.get("make_id", stable_id)(name, key), "source": name, "prompt": cap(prompt)})
        print(f"{name:<8} {len(items):4d} candidates, {len(chosen):4d} taken  ({src['repo']} @ {src['commit'][:12]})",
              file=sys.stderr)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "id collision"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} prompts to {args.out}", file=sys.stderr)


def main(argv=None):
    run(__doc__.split("\n")[0], SOURCES, EXTRACTORS, os.path.join(HERE, "prompts_targeted.jsonl"), argv)


if __name__ == "__main__":
    main()
