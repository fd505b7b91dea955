"""What `ccr classify`, `ccr eval` and `ccr label` do with the files and answers real users give them: each mistake a
one-line message naming its place (never a traceback), nothing already written lost, and logged text that cannot
drive the terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from classifier.evaluate import score
from classifier.model import Prediction
from classifier.train import own_score

GOOD = '{"id": "a", "prompt": "add a unit test for parse_date"}\n'


def _ccr(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "router", *args], capture_output=True, timeout=300,
                          input=stdin if stdin is not None else b"")
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


@pytest.mark.parametrize(("content", "message"), [
    (GOOD.encode() + b'{"id": "b", "prompt": "caf\xe9"}\n', "in.jsonl:2: not UTF-8 (byte 0xe9 at column 27)"),
    (GOOD.encode() + b"{not json\n", "in.jsonl:2: not JSON"),
    (GOOD.encode() + b'["a", "b"]\n', "in.jsonl:2: each line must be a JSON object"),
    (GOOD.encode() + b'{"id": null, "prompt": "x"}\n', 'in.jsonl:2: "id" must be a string or an integer, got null'),
    (GOOD.encode() + b'{"id": true, "prompt": "x"}\n', 'in.jsonl:2: "id" must be a string or an integer, got true'),
    (GOOD.encode() + b'{"id": "c", "prompt": 7}\n', 'in.jsonl:2: each line needs "id" and a "prompt" string'),
    (b"\n\n", "in.jsonl: no prompts"),
    (GOOD.encode() + b'{"id": ' + b"9" * 5000 + b', "prompt": "x"}\n', "in.jsonl:2: not usable JSON (Exceeds the limit"),
    (GOOD.encode() + b"[" * 100_000 + b"\n", "in.jsonl:2: not usable JSON"),
])
def test_a_bad_input_file_fails_before_anything_is_written(tmp_path: Path, content: bytes, message: str,
                                                           default_model: Any) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(content)
    out.write_text('{"id": "kept from the last run"}\n')
    done = _ccr("classify", "--input", str(src), "--output", str(out))
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_text() == '{"id": "kept from the last run"}\n'  # the earlier output is not emptied


def test_what_json_allows_is_classified(tmp_path: Path, default_model: Any) -> None:
    rows = [{"id": "sep", "prompt": "rename\u2028the\u0085helper\u2029please"},  # line separators inside a string
            {"id": 7, "prompt": "fix \ud800 this"},  # a lone surrogate, as the \\ud800 escape writes it
            {"id": "id-\udc00", "prompt": "write a test"},
            {"id": "sep", "prompt": ""},  # a repeated id; an empty prompt
            {"id": "dots", "prompt": "???"}]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows[:1]).encode()
                    + "".join(json.dumps(r) + "\n" for r in rows[1:]).encode())
    done = _ccr("classify", "--input", str(src), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 line(s) repeat an earlier id (first: 'sep')" in done.stderr
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]
    assert [g["id"] for g in got] == ["sep", 7, "id-\udc00", "sep", "dots"]
    assert [g["uncertain"] for g in got[3:]] == [True, True]  # no word to read: the label is only the prior
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_stdin_and_stdout(default_model: Any) -> None:
    done = _ccr("classify", "--input", "-", stdin=GOOD.encode())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == "a"
    refused = _ccr("classify", "write a README", "--output", "x.jsonl")
    assert refused.returncode == 2 and "--output goes with --input" in refused.stderr


def test_a_write_that_fails_says_so(tmp_path: Path, default_model: Any) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(GOOD)
    done = _ccr("classify", "--input", str(src), "--output", "/dev/full")
    assert done.returncode == 1 and "ccr: /dev/full: No space left on device" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    src.write_text(GOOD * 300)  # a reader that stops early (`| head -1`): no noise
    shell = subprocess.run(f"{sys.executable} -m router classify --input {src} | head -1", shell=True,
                           capture_output=True, text=True, timeout=300)
    assert json.loads(shell.stdout)["id"] == "a" and "Traceback" not in shell.stderr, shell.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("\n", "data.jsonl: no prompts"),
    (GOOD * 2, "data.jsonl: no labels to score against"),  # prompts only: that is `ccr classify`'s input
])
def test_ccr_eval_on_a_file_with_nothing_to_score(tmp_path: Path, content: str, message: str,
                                                  default_model: Any) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text(content)
    done = _ccr("eval", "--data", str(data))
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_macro_f1_averages_the_classes_that_occur() -> None:
    from classifier.dataset import Example

    def guesses(*tasks: str) -> list[Prediction]:
        return [Prediction(t, "low", 0.5, {"task_type": {t: 0.9}, "complexity": {"low": 0.9}}) for t in tasks]

    examples = [Example("1", "x", "debug"), Example("2", "y", "explain"), Example("3", "z", "explain")]
    assert score(examples, guesses("debug", "explain", "explain"))["task_type"]["macro_f1"] == 1.0  # not 2/9
    # plan was predicted, so it counts (F1 0); the seven classes that never came up do not
    stray = score(examples, guesses("debug", "explain", "plan"))
    assert stray["task_type"]["macro_f1"] == round((1 + 2 / 3) / 3, 4)
    # judging two models on a user's own labels, both are averaged over the labels' classes: one stray guess of a
    # class the labels lack costs what a wrong guess costs, not a third of the score
    other = score(examples, guesses("debug", "debug", "explain"))
    assert own_score(stray) == round((2 / 3 + (1 + 2 / 3) / 2) / 2, 4) > own_score(other)


def test_logged_text_cannot_drive_the_terminal() -> None:
    from router.printable import printable

    text = "a\x1b[31mred\rb\u202eevil\u2066\x9b\tkept\nline"
    assert printable(text, lines=True) == "a\\x1b[31mred\\x0db\\u202eevil\\u2066\\x9b\tkept\nline"
    assert printable(text) == "a\\x1b[31mred\\x0db\\u202eevil\\u2066\\x9b\\x09kept\\x0aline"  # one log line


@pytest.mark.parametrize(("item", "answers", "label"), [
    ({"task_type": None, "complexity": None}, ["", "debug low"], ("debug", "low", None)),  # nothing to accept: asks
    ({"task_type": "plan", "complexity": "high"}, ["plna", "plan high strong"], ("plan", "high", True)),  # a typo
    ({"task_type": "plan", "complexity": "high"}, [""], ("plan", "high", None)),  # Enter accepts
    ({"task_type": "plan", "complexity": None}, [""], ("plan", None, None)),
    ({"task_type": "plan", "complexity": "high"}, ["s"], None),
])
def test_ccr_label_asks_again_rather_than_losing_a_prompt(monkeypatch: pytest.MonkeyPatch, capsys: Any,
                                                          item: dict[str, Any], answers: list[str],
                                                          label: tuple[Any, ...] | None) -> None:
    from router.cli.ml_cmd import _ask_label

    given = iter(answers)
    monkeypatch.setattr("builtins.input", lambda _: next(given))
    got = _ask_label({"prompt_id": "p_1", "ts": "now", "prompt": "plan the \x1b[2J migration", "difficulty": 0.4,
                      **item})
    assert got == (None if label is None else {"prompt_id": "p_1", "task_type": label[0], "complexity": label[1],
                                               "strong": label[2]})
    assert next(given, "all used") == "all used"
    assert "\x1b" not in capsys.readouterr().out
