"""The `qa` console script, run as a user would."""
import json
import os
import re
import subprocess
import sys

from .conftest import SEEDS


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_build_then_ask(tmp_path):
    index = tmp_path / "idx"
    built = run("index", "build", str(SEEDS), "--index", str(index))
    assert built.returncode == 0, built.stderr
    assert "built: 5 documents" in built.stdout
    asked = run("ask", "What architecture do the Nissan Rogue and the Mitsubishi Outlander share?",
                "--index", str(index))
    assert asked.returncode == 0, asked.stderr
    assert re.search(r"^Answer: CMF-CD architecture  \(confidence \d+%", asked.stdout, re.M)  # the calibrated one
    assert "000_b010cb9e285ec495, characters" in asked.stdout
    as_json = json.loads(run("ask", "Who is the CEO of Renault Group?", "--index", str(index), "--json").stdout)
    assert as_json["text"] == "Luca de Meo" and as_json["citations"][0]["quote"]
    info = json.loads(run("index", "info", "--index", str(index)).stdout)
    assert info["counts"]["documents"] == 5
    again = run("index", "build", str(SEEDS), "--index", str(index))
    assert "updated: 0 added, 0 changed, 0 removed (the other 5 articles kept their vectors)" in again.stdout


def test_errors_are_one_clear_line(tmp_path):
    empty = run("ask", "   ", "--index", str(tmp_path / "none"))
    assert empty.returncode == 2 and "qa: error:" in empty.stderr and "Traceback" not in empty.stderr
    missing = run("index", "build", str(tmp_path / "no-such-folder"), "--index", str(tmp_path / "i"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
    wrong = run("ask", "Who?", "--index", str(tmp_path / "none"))
    assert wrong.returncode == 2 and "no index at" in wrong.stderr


def test_bad_settings_and_missing_index_flag_are_clear_errors(tmp_path):
    bad_env = run("ask", "Who?", env={"QA_TOP_K": "five"})
    assert bad_env.returncode == 2 and "QA_TOP_K='five'" in bad_env.stderr and "Traceback" not in bad_env.stderr
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.txt").write_text("Some text about a plant in Sunderland.")
    no_target = run("index", "build", str(folder))
    assert no_target.returncode == 2 and "--index" in no_target.stderr
