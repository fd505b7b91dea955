#!/usr/bin/env python3
"""Extract developers' own instructions to coding agents from chat logs committed to public repositories.

Stdlib only. Reads bare git mirrors (fetched with the search tool's `fetch`; ``git --git-dir=... show
COMMIT:path``), never a work tree, never runs anything from the snapshots. Two log formats:

  * Aider's ``.aider.chat.history.md``: a user message is a run of lines starting with ``#### ``; slash
    commands are dropped, except ``/ask``, ``/architect`` and ``/code``, whose text is the request.
  * SpecStory's ``.specstory/history/*.md`` (Cursor, Claude Code, Gemini CLI sessions saved by the SpecStory
    extension): a user turn is the text under a ``_**User...**_`` header, up to the next ``---`` rule or the
    next speaker's header.

Per repository: prompts are whitespace-normalised and deduplicated (sessions are often saved twice), those under
MIN_CHARS dropped, and the first TAKE in the order of sha256(repo + prompt) kept; then per owner the first
OWNER_TAKE of those in the same order, and a prompt already taken from another repository is not taken again, so
that no one repository or author dominates. Ids are ``sess-<10 hex of sha256(owner)>~<first 10 hex of that
sha256>``: the owner stands where a chat set has its conversation, so that the evaluation split keeps one developer's
prompts (their style, their project, the follow-ups of one session) on one side. Prompts are capped at 4,000 characters.
Every repository below has a permissive licence file (checked by reading it); ``licence_at`` says whether
it was read at the commit used or at the snapshot's head.

Usage:
    python3 extract_sessions.py [--mirrors DIR] [--out prompts.jsonl]
"""

import argparse
import hashlib
import json
import os
import re
import subprocess

MAX_CHARS = 4000
MIN_CHARS = 12
TAKE = 90  # at most from one repository
OWNER_TAKE = 120  # and from one owner's repositories together (one author has 21 of them)

# repo, commit, log format, licence (file; read at). openbmc/bmcweb's history is in an unmerged change
# (refs/changes/26/93326/5), one contributor's session.
SOURCES = [
    ("AmbidextrousCoatie/league_analyzer", "aad233ccb6d72a72bfec9fb916c06ea691d5225d", "specstory", "MIT (LICENSE)"),
    ("daviswhitehead/chef-chopsky", "505bcbb3962ffc0fbcf853befaffc90132d98d0f", "specstory", "CC0-1.0 (LICENSE)"),
    ("edobry/minsky", "2d0f5d07ebe40b8b2245be819c49558147c3cad8", "specstory", "MIT (LICENSE, at head)"),
    ("ThatHunky/gryag", "27dc8ac4dbf20b5598f933fb9fdb7864726de2b3", "specstory", "MIT (LICENSE)"),
    ("JobiJoba/SchaerbeekMunicipality", "0b3d5105d57e9606d4c53c57ffcb97731d18fc84", "specstory", "MIT (LICENSE)"),
    ("AFI-Protocol/afi-core", "59f264996752251a16788fce2715c2cec7252970", "aider", "MIT (LICENSE)"),
    ("AlexShchuka/mozgoslav", "1f66bc9d44c5950cada7054a9581d7058caaac66", "aider", "MIT (LICENSE)"),
    ("DanCard/cal-date-widget", "2ea03cb47cbb104368ad79943a8a3127c5467ffd", "specstory", "MIT (LICENSE)"),
    ("Hornsyld/economic-bc-connector", "eee4ddfd923bb27bd1dee262e85efa52161cd96d", "specstory", "MIT (LICENSE)"),
    ("closup/process-xbrl", "8eda6aa26fb04117f93bfb402fcfd35fcb159f48", "specstory", "MIT (License.txt, at head)"),
    ("iDorgham/DocGen", "fdcb8c53a4ee6a32db0f8644c6f2d71a6e11b471", "specstory", "MIT (LICENSE)"),
    ("IngoS11/EmailBuddy", "3b5e142aebc11f95491ae13ef931eaf02d76bed5", "specstory", "MIT (LICENSE)"),
    ("iterative/dvc", "be005a44b5edd06d730c1bab5fbd29c10f7db8ec", "specstory", "Apache-2.0 (LICENSE)"),
    ("Firedogs2x/Houdoku-2", "b1e5116d870347918160f27fc48e25a2478fa134", "specstory", "MIT (LICENSE)"),
    ("Aquaticat/Monochromatic", "56372c6db0d4f2431d99bfdbe2142702ed891101", "aider", "Apache-2.0 (LICENSE)"),
    ("Bucur21/PaperBites", "7a7c53c5a6880fed5597aeb499e57a3e5d2d8363", "specstory", "MIT (LICENSE)"),
    ("BillWan-zzzyyy/alpamayo", "5c6341c180a0cc5cafb058ee9479873e761dad76", "specstory", "Apache-2.0 (LICENSE)"),
    ("HypeRankCode/hyperank", "12e60d427bbd1cea15ca5540887aae1ddbcb1d2d", "specstory", "MIT (LICENSE)"),
    ("Asphyksia/OpenCoder", "b4e1e3e322c9f8ef10a0ac4913e1443f06f926c8", "aider", "MIT (LICENSE)"),
    ("destyler/destyler", "558faf91c6a180723eabe6a3799eab9431ce70cb", "specstory", "MIT (LICENSE)"),
    ("ivi374forivi/cognitive-archaelogy-tribunal", "a598e62b5b8dd7736df4b4888eb9430fcafe48f1", "specstory", "MIT (LICENSE)"),
    ("BenjaminScholtens/Afterburn", "a4b57412fa25c5572d18e1637a610948aa5baebf", "specstory", "MIT (LICENSE)"),
    ("Itsme23476/App-interface", "dfa16525bf9f603d8c17ea64e6e3dfd67ab8d52c", "specstory", "MIT (LICENSE)"),
    ("design4pro/mcp-rag-server", "7798379c2c452452e2b173cc8b0e55c83e39c287", "specstory", "MIT (LICENSE)"),
    ("robin-collins/Roo-Cline", "b21edece2756bc8e3e8ddf1c3f845b278d73bc82", "specstory", "Apache-2.0 (LICENSE)"),
    ("ChrisGVE/MunsellSpace", "3e2479bec91a4b7e4d9b988275118e6ede268492", "specstory", "MIT (LICENSE)"),
    ("Excellencedev/yin-minecraft-mod", "563b436641a0ab8e9e0d288bf4965e34e4a5fe85", "specstory", "CC0-1.0 (LICENSE)"),
    ("0-auth/zero-auth", "e56fdb18e48e00a1c7c3cc304233fd919c2c14ff", "specstory", "MIT (LICENSE)"),
    ("Singingkettle/ChangShuoRadioRecognition", "3b11de1def818bce40603347f25ca9c950441217", "specstory", "Apache-2.0 (LICENSE)"),
    ("twardoch/nyord-vpn", "d38172558d41eafee6a0d1b93ea9ba42b29b7729", "specstory", "MIT (LICENSE)"),
    ("robin-collins/next-ppdb", "3cdbd1788a7a3bece9656ba8397c67cded3218aa", "specstory", "MIT (LICENSE)"),
    ("twardoch/twat-search", "29e37e26f554ccc5d0f3077088d3c53bc2dadb60", "specstory", "MIT (LICENSE)"),
    ("robin-collins/gpt-crawler", "9fc8ae15139dc9958bf705c5d63a06f6d8fbf45d", "specstory", "ISC (License)"),
    ("BillWan-zzzyyy/BillWan-zzzyyy.github.io", "b38cb179a03e03c21bcbdec0587fc2601c374c9c", "specstory", "MIT (LICENSE)"),
    ("twardoch/qlith", "6cf873c7468ff596c15fc1ae687caf2c72e64d38", "specstory", "Apache-2.0 (LICENSE)"),
    ("twardoch/imgcolorshine", "af491d04a5e4310e1573ca5de103353fc5c7af22", "specstory", "MIT (LICENSE)"),
    ("twardoch/volante_lokalnie", "b4f2f7117d348bbaa227f708612ad4547a87a319", "specstory", "MIT (LICENSE)"),
    ("twardoch/lmstrix", "d585baee6f3abdd3d1e30720822431953d56c69c", "specstory", "MIT (LICENSE)"),
    ("twardoch/twat-cache", "78d738c5edccc89355260f42d58eb51bd1fc924e", "specstory", "MIT (LICENSE)"),
    ("twardoch/twat-coding", "a76ce40a3a667fa6f8a87956432a4f67d2836253", "specstory", "MIT (LICENSE)"),
    ("twardoch/boabro", "0b39c79790209cd12118edbf9eaf73647c865498", "specstory", "MIT (LICENSE)"),
    ("twardoch/d361", "ee4d77173ea87b0a8df2284717bc6147912e3810", "specstory", "MIT (LICENSE)"),
    ("twardoch/phiton", "cc77aa1ddc14cdbedb1528d11ebd0db159c9876a", "specstory", "MIT (LICENSE)"),
    ("twardoch/vidkompy", "2eaf6a52b29b92c16dfa1cfae2bbe7b171157004", "specstory", "MIT (LICENSE)"),
    ("twardoch/opero", "fea4c8a6b99c9cfc37679f366212676793f1c1bf", "specstory", "MIT (LICENSE)"),
    ("twardoch/MimeArchiveFS-py", "012fdd8f3d1d10ef2b517d5ae6c7d3d102d983ec", "specstory", "Apache-2.0 (LICENSE)"),
    ("twardoch/topyaz", "a366b31aed5853b22bcf249509f9705fdea89eee", "specstory", "MIT (LICENSE)"),
    ("twardoch/e11ocutionist", "8aeea7d6b20b799fdbab18e508b4e618007130d5", "specstory", "MIT (LICENSE)"),
    ("twardoch/brosh", "183c3c9a9342a957251b68136bd5cb18faac9ae7", "specstory", "MIT (LICENSE)"),
    ("twardoch/twat-mp", "54201bb6b8925aaedc97e1994ca2d708ee76bdce", "specstory", "MIT (LICENSE)"),
    ("twardoch/twat-fs", "92e3ed522b935677946b2db84b00c1a9df75909c", "specstory", "MIT (LICENSE)"),
    ("twardoch/geminpy", "ffba55968ccff856bed8abb5d431a627238bfb9b", "specstory", "MIT (LICENSE)"),
    ("concord-consortium/codap", "0ddb0365d5e630c2bda57b939e19d8570389e892", "specstory", "MIT (LICENSE.md)"),
    ("twardoch/pdf22png", "936c7e9477587308b5677684de16d3028ed1683a", "specstory", "MIT (LICENSE)"),
    ("DigitalKin-ai/aider_kinchercheur", "73e950a07e8ed01225a4b1ca6fe177541a33222a", "aider", "Apache-2.0 (LICENSE.txt)"),
    ("openbmc/bmcweb", "875cc17e0931348ea730b6d06b021dd66722e2c1", "specstory", "Apache-2.0 (LICENSE)"),
    ("DreamyChloe/MMM-Miku", "be4df9aec5d4da77b70caa465cb518cbed062397", "aider", "MIT (LICENSE.md)"),
    ("Consistos/VigInt", "c3a8e89ac00626b9836c883660dc14c354f14f18", "aider", "MIT (LICENSE)"),
    ("BitFinding/evm-proxy-tools", "0bae9e401cbba37647514b9a7a41c8734bdbf9a9", "aider", "MIT (LICENSE)"),
    ("CakeCrusher/opengpts-monorepo", "cd1a59a25ae5479a3250b7c1671bb8433e20b31f", "aider", "MIT (LICENSE)"),
]

_USER = re.compile(r"^_\*\*User\b.*\*\*_\s*$")
_SPEAKER = re.compile(r"^_\*\*(?:User|Assistant|Agent)\b.*\*\*_\s*$")
_KEEP_COMMANDS = re.compile(r"^/(?:ask|architect|code)\s+", re.I)


def digest(repo, key):
    return hashlib.sha256((repo + "\n" + key).encode()).hexdigest()


def owner_key(repo):
    return hashlib.sha256(repo.split("/")[0].encode()).hexdigest()[:10]


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, check=True).stdout.decode(
        "utf-8", "replace")


def aider_prompts(text):
    block = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("#### ") or line == "####":
            block.append(line[5:])
            continue
        if block:
            prompt = "\n".join(block).strip()
            block = []
            if prompt.startswith("/"):
                if not _KEEP_COMMANDS.match(prompt):
                    continue
                prompt = _KEEP_COMMANDS.sub("", prompt, count=1)
            yield prompt


def specstory_prompts(text):
    block = None
    for line in [*text.splitlines(), "---"]:
        if _USER.match(line):
            block = []
            continue
        if block is not None and (line.strip() == "---" or _SPEAKER.match(line)):
            yield "\n".join(block).strip()
            block = None
            continue
        if block is not None:
            block.append(line)


def repo_prompts(mirrors, repo, commit, kind):
    gitdir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    if kind == "aider":
        yield from aider_prompts(git(gitdir, "show", f"{commit}:.aider.chat.history.md"))
        return
    names = git(gitdir, "ls-tree", "-r", "--name-only", commit, "--", ".specstory/history/").splitlines()
    for name in sorted(names):
        if not name.endswith(".md"):
            continue
        try:
            text = git(gitdir, "show", f"{commit}:{name}")
        except subprocess.CalledProcessError:  # files of 4 MiB and more are missing from the snapshots
            continue
        yield from specstory_prompts(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--out", default="sessions.jsonl")
    args = parser.parse_args()
    by_owner = {}
    for repo, commit, kind, licence in SOURCES:
        seen = {}
        for prompt in repo_prompts(args.mirrors, repo, commit, kind):
            key = " ".join(prompt.split())
            if len(key) >= MIN_CHARS and key not in seen:
                seen[key] = prompt[:MAX_CHARS]
        for key, prompt in sorted(seen.items(), key=lambda kv: digest(repo, kv[0]))[:TAKE]:
            by_owner.setdefault(repo.split("/")[0], []).append(
                {"id": f"sess-{owner_key(repo)}~{digest(repo, key)[:10]}", "prompt": prompt, "source": repo, "commit": commit,
                 "format": kind, "licence": licence, "key": key})
    rows, taken = [], set()
    for owner_rows in by_owner.values():
        owner_rows.sort(key=lambda r: digest(r["source"], r["key"]))
        kept = [r for r in owner_rows if r["key"] not in taken][:OWNER_TAKE]
        taken.update(r.pop("key") for r in kept)
        rows += kept
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts from {len(SOURCES)} repositories ({len(by_owner)} owners) written to {args.out}")


if __name__ == "__main__":
    main()
