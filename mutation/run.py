"""``make mutate``: mutation testing (mutmut) of the sign definitions, the diagnosis and the
follow-up's effect test, each scope in its own scratch folder with only the tests that cover it.

A mutant is a copy of the code with one small change (``<=`` for ``<``, ``73`` for ``72``,
``and`` for ``or``, a string spoiled). A test suite that lets a mutant pass cannot tell that
definition from the right one. Each scope runs in ``build/mutation/<scope>/`` (created afresh:
the repository is never written to), whose ``pyproject.toml`` tells mutmut which files to
mutate and which test files to run; mutmut then runs, for each mutant, only the tests that
called the mutated function. The summary per scope is printed and written, with every
surviving mutant's diff, to ``build/mutation/<scope>/summary.md``.

    python mutation/run.py [signs] [diagnosis] [effect] [--workers N]

Scopes (add one = one entry in SCOPES). docs/mutation.md lists the survivors and why each is
equivalent or accepted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "mutation"


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What to mutate (globs relative to the repository) and the test files that cover it."""

    mutate: tuple[str, ...]
    tests: tuple[str, ...]


SCOPES: dict[str, Scope] = {
    # the data-first sign cases, the generated docs/signs.md (document.py), the process maps and the roles
    "signs": Scope(
        mutate=("src/itsm_doctor/signs/*",),
        tests=(
            "tests/signs/test_sign_cases.py",
            "tests/signs/test_sign_base.py",
            "tests/signs/test_signs_doc.py",
            "tests/signs/test_roles.py",
            # signs/window.py (the extract window) on hand-made weekly counts and summaries
            "tests/signs/test_window.py",
            # finish functions on hand-made summaries (backlog trend, priority classes, time shares…)
            "tests/signs/test_sign_finishes.py",
            # the silences on events stored out of order (the windows' order_by)
            "tests/signs/test_event_order.py",
            "tests/engine/test_mining.py",
            # signs/roles.py (tiers inferred from routing, the roles file) is tested there
            "tests/diagnosis/test_evidence.py",
        ),
    ),
    # the dysfunction cases and the engine by hand; the evidence-sufficiency rules of issue 13
    "diagnosis": Scope(
        mutate=("src/itsm_doctor/diagnosis/*",),
        tests=(
            "tests/diagnosis/test_diagnosis.py",
            "tests/diagnosis/test_engine_by_hand.py",
            "tests/diagnosis/test_evidence.py",
        ),
    ),
    "effect": Scope(
        mutate=("src/itsm_doctor/followup/effect.py",),
        tests=("tests/followup/test_spc_and_effect.py", "tests/followup/test_judge.py"),
    ),
}

# what the tests read besides src/ and tests/ (docs/signs.md is compared with its generator)
_LINKED = ("src", "tests", "docs")


def _toml_value(value: object) -> str:
    """A TOML literal for a string, a bool, or a list of those (JSON spells them alike)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _pyproject(scope: Scope) -> str:
    """The scratch folder's pyproject.toml: the repository's pytest options and mutmut's scope."""
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = repo["tool"]["pytest"]["ini_options"]
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in pytest_options.items() if k != "testpaths"]
    lines += [
        "",
        "[tool.mutmut]",
        f"source_paths = {_toml_value(['src'])}",
        f"only_mutate = {_toml_value(list(scope.mutate))}",
        f"pytest_add_cli_args_test_selection = {_toml_value(list(scope.tests))}",
        f"also_copy = {_toml_value(['docs'])}",
        # Spark's JVM and the real logs are too slow to run once per mutant; DuckDB runs the same signs
        f"pytest_add_cli_args = {_toml_value(['-m', 'not spark and not realdata', '-p', 'no:cacheprovider'])}",
        # one mutant's verdict may not depend on another's cache: no reuse across runs
        "use_git_change_detection = false",
        "",
    ]
    return "\n".join(lines)


def _prepare(name: str, scope: Scope) -> Path:
    work = BUILD / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for part in _LINKED:
        (work / part).symlink_to(ROOT / part, target_is_directory=True)
    (work / "pyproject.toml").write_text(_pyproject(scope), encoding="utf-8")
    return work


def _mutmut(work: Path, *args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run mutmut in the scratch folder; its output is returned, or streamed to ``log``."""
    exe = Path(sys.executable).parent / "mutmut"
    env = os.environ.copy()
    # the mutated copy (mutants/src) must be the only itsm_doctor on the path mutmut sets up
    env.pop("PYTHONPATH", None)
    if log is None:
        return subprocess.run([str(exe), *args], cwd=work, env=env, text=True, capture_output=True, check=False)
    with log.open("w", encoding="utf-8") as out:
        return subprocess.run([str(exe), *args], cwd=work, env=env, text=True, stdout=out, stderr=out, check=False)


# every mutant no test killed, with its diff, read in one process (``mutmut show`` per mutant
# starts mutmut again each time: seconds per survivor)
_UNKILLED = """
import json
from mutmut.__main__ import SourceFileMutationData, status_by_exit_code
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.utils.file_utils import walk_mutatable_files
counts, out = {}, []
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        status = status_by_exit_code[code]
        counts[status] = counts.get(status, 0) + 1
        if status not in ("killed", "timeout", "caught by type check", "skipped"):
            out.append([name, status, get_diff_for_mutant(name, path=path)])
print(json.dumps({"counts": counts, "unkilled": out}))
"""


def _version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def _unkilled(work: Path) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """The count of mutants by status, and (mutant, status, its diff) for every mutant that
    survived, had no test or was not run."""
    env = os.environ.copy()
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", _UNKILLED], cwd=work, env=env, text=True, capture_output=True, check=True
    )
    found = json.loads(done.stdout)
    return found["counts"], [(n, s, d.strip()) for n, s, d in found["unkilled"]]


def run_scope(name: str, scope: Scope, *, workers: int) -> dict[str, int]:
    """Mutate one scope, run its tests against every mutant; the counts by verdict."""
    work = _prepare(name, scope)
    started = time.monotonic()
    log = work / "run.log"
    print(f"{name}: mutmut running, progress in {log.relative_to(ROOT)}", flush=True)
    done = _mutmut(work, "run", "--max-children", str(workers), log=log)
    minutes = (time.monotonic() - started) / 60
    if done.returncode != 0:
        print(log.read_text(encoding="utf-8")[-4000:], file=sys.stderr)
        raise SystemExit(f"mutmut failed on {name} (exit {done.returncode}); log in {work / 'run.log'}")
    counts, unkilled = _unkilled(work)
    total = sum(counts.values())
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("caught by type check", 0)
    uncovered, unrun = counts.get("no tests", 0), counts.get("not checked", 0)
    judged = total - counts.get("skipped", 0) - uncovered - unrun
    score = killed / judged if judged else 0.0
    # the honest score: a mutant no test of the scope runs is a survivor too
    strict = killed / (judged + uncovered) if judged + uncovered else 0.0
    head = (
        f"{name}: {killed} of {judged} mutants run killed ({score:.1%}; {strict:.1%} counting the not covered "
        f"as survivors) — generated {total}, killed {counts.get('killed', 0)}, timeout {counts.get('timeout', 0)}, "
        f"survived {counts.get('survived', 0)}, not covered by the scope's tests {uncovered}, not run {unrun}; "
        f"mutmut {_version()}, {workers} worker(s), {minutes:.1f} min"
    )
    print(head, flush=True)
    body = [f"# Mutation testing: {name}", "", head, "", f"Mutated: {', '.join(scope.mutate)}"]
    body += [f"Tests: {', '.join(scope.tests)}", ""]
    for status in dict.fromkeys(["survived", "no tests", *(s for _, s, _ in unkilled)]):
        body += [f"## Mutants: {status}", ""]
        body += [f"### {n}\n\n```diff\n{diff}\n```\n" for n, s, diff in unkilled if s == status] or ["none", ""]
    (work / "summary.md").write_text("\n".join(body) + "\n", encoding="utf-8")
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("scopes", nargs="*", metavar="scope", help=f"any of {', '.join(SCOPES)} (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="mutants tested at once (default 1)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scopes) - set(SCOPES))
    if unknown:
        parser.error(f"unknown scope(s) {unknown}; known: {sorted(SCOPES)}")
    for name in args.scopes or list(SCOPES):
        run_scope(name, SCOPES[name], workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
