"""`make mutate`: mutation testing of the security core with cosmic-ray, on PostgreSQL.

    python -m mutation [TARGET ...]           # every target of mutation/targets.py when none given
    python -m mutation --report [TARGET ...]  # print the last run's results again
    python -m mutation --list

For each target: copy the tracked tree to .mutation/tree (cosmic-ray rewrites the
file it mutates: the working tree is never touched), list its mutants
(`cosmic-ray init`), keep those inside the target's functions, run the target's
tests once unmutated, then against every mutant (`cosmic-ray exec`), each run
`pytest -x` on a throwaway PostgreSQL database. Prints the kill ratio and every
surviving mutant with its file, line and change; survivors listed in
docs/testing.md as equivalent are counted apart. Exits 1 when a survivor is not
listed or the ratio of killed non-equivalent mutants is under 90%.
"""

import argparse
import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mutation.targets import EXCLUDED_OPERATORS, TARGETS, Target

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
TREE = WORK / "tree"
EQUIVALENTS = ROOT / "docs" / "testing.md"
TARGET_RATIO = 0.90
PG = ("-h", "127.0.0.1", "-p", "5432", "-U", "postgres")
BIN = Path(sys.executable).parent
PYTEST = (sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:warnings")
# "- `path` `operator` `original line` → `mutated line`: why" in docs/testing.md.
EQUIVALENT_LINE = re.compile(r"^- `([^`]+)` `([^`]+)` `(.+?)` → `(.*?)`: (.+)$")


@dataclass
class Mutant:
    path: str
    line: int
    operator: str
    before: str
    after: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.path, self.operator, self.before, self.after)


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    killed: int = 0
    survivors: list[Mutant] = field(default_factory=list)
    incompetent: int = 0

    @property
    def total(self) -> int:
        return self.killed + len(self.survivors)


def run(*command: str, cwd: Path = ROOT, env: dict | None = None, check: bool = True):
    return subprocess.run(command, cwd=cwd, env=env, check=check, capture_output=True, text=True)


def equivalents() -> dict[tuple[str, str, str, str], str]:
    found = {}
    for line in EQUIVALENTS.read_text().splitlines() if EQUIVALENTS.exists() else []:
        match = EQUIVALENT_LINE.match(line.strip())
        if match:
            path, operator, before, after, why = match.groups()
            found[(path, operator, before.strip(), after.strip())] = why
    return found


def copy_tree() -> None:
    """Copy the tracked files (as they are now, edits included) and the compiled catalogue."""
    shutil.rmtree(TREE, ignore_errors=True)
    listed = run("git", "ls-files", "-co", "--exclude-standard", "-z").stdout.split("\0")
    for name in [*listed, "locale/fr/LC_MESSAGES/django.mo"]:
        source = ROOT / name
        if name and source.is_file() and not name.startswith(".mutation/"):
            (TREE / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, TREE / name)
    (TREE / "staticfiles").mkdir(exist_ok=True)
    if not (TREE / "locale/fr/LC_MESSAGES/django.mo").exists():
        sys.exit("French translations are not compiled: run `make translations`.")


def start_postgres(name: str) -> dict:
    if run("pg_isready", "-q", *PG[:4], check=False).returncode != 0:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
        for _ in range(30):
            if run("pg_isready", "-q", *PG[:4], check=False).returncode == 0:
                break
            time.sleep(1)
    run("psql", *PG, "-qc", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}")
    return {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"}


def drop_postgres(name: str) -> None:
    for database in (name, f"test_{name}"):
        run("psql", *PG, "-qc", f"DROP DATABASE IF EXISTS {database}", check=False)


def function_lines(path: Path, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """The line ranges (decorators included) of the functions `names` in `path`."""
    functions = [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    ranges = [
        (min([f.lineno, *(d.lineno for d in f.decorator_list)]), f.end_lineno or f.lineno)
        for f in functions
        if f.name in names
    ]
    missing = set(names) - {f.name for f in functions}
    if missing:
        sys.exit(f"{path}: no function {', '.join(sorted(missing))} (mutation/targets.py)")
    return ranges


def write_config(name: str, target: Target, timeout: float) -> Path:
    command = shlex.join([*PYTEST, *target.tests])
    excluded = ", ".join(f"'{pattern}'" for pattern in EXCLUDED_OPERATORS)
    config = WORK / f"{name}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target.path}"\n'
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n"
    )
    return config


def skip_outside(session: Path, target: Target) -> None:
    """Mark as skipped the mutants outside the target's functions."""
    if not target.functions:
        return
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    ranges = function_lines(TREE / target.path, target.functions)
    with use_db(str(session), WorkDB.Mode.open) as db:
        outside = [
            item.job_id
            for item in db.pending_work_items
            if not any(
                first <= m.start_pos[0] <= last for m in item.mutations for first, last in ranges
            )
        ]
        if outside:
            db.set_multiple_results(
                outside, WorkResult(output="outside", worker_outcome=WorkerOutcome.SKIPPED)
            )


def changed_lines(diff: str) -> tuple[str, str]:
    """The lines a mutant's diff removes and adds, each side joined into one line."""

    def side(sign: str) -> str:
        lines = [line[1:].strip() for line in diff.splitlines() if line.startswith(sign)]
        return " / ".join(line for line in lines if line and not line.startswith(sign * 2))

    return side("-"), side("+")


def collect(name: str, target: Target, session: Path) -> Result:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    result = Result(name)
    timing = WORK / f"{name}.seconds"
    result.seconds = float(timing.read_text()) if timing.exists() else 0.0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
                continue
            if outcome.test_outcome == TestOutcome.INCOMPETENT:
                result.incompetent += 1
            elif outcome.test_outcome == TestOutcome.SURVIVED:
                [mutation] = item.mutations
                before, after = changed_lines(outcome.diff or "")
                line, operator = mutation.start_pos[0], mutation.operator_name
                result.survivors.append(Mutant(target.path, line, operator, before, after))
            else:
                result.killed += 1
    result.survivors.sort(key=lambda m: (m.line, m.operator))
    return result


def mutate(name: str, target: Target, env: dict, first: bool) -> Result:
    started = time.monotonic()
    session = WORK / f"{name}.sqlite"
    session.unlink(missing_ok=True)
    # The unmutated tests must pass; they also build the test database the first time.
    baseline = [*PYTEST, *target.tests, *(["--create-db"] if first else [])]
    clock = time.monotonic()
    done = subprocess.run(baseline, cwd=TREE, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{name}: the tests fail without any mutant:\n{done.stdout[-3000:]}")
    timeout = max(30.0, 4 * (time.monotonic() - clock))
    config = write_config(name, target, timeout)
    run(str(BIN / "cosmic-ray"), "init", str(config), str(session), cwd=TREE, env=env)
    skip_outside(session, target)
    run(str(BIN / "cr-filter-operators"), str(session), str(config), cwd=TREE, env=env)
    run(str(BIN / "cr-filter-pragma"), str(session), cwd=TREE, env=env)
    execution = run(
        str(BIN / "cosmic-ray"), "exec", str(config), str(session), cwd=TREE, env=env, check=False
    )
    if execution.returncode != 0:
        sys.exit(f"{name}: cosmic-ray exec failed:\n{execution.stderr[-3000:]}")
    seconds = time.monotonic() - started
    (WORK / f"{name}.seconds").write_text(f"{seconds:.0f}\n")
    return collect(name, target, session)


def report(results: list[Result], known: dict[tuple[str, str, str, str], str]) -> bool:
    total = killed = equivalent = 0
    unexplained: list[Mutant] = []
    columns = ("mutants", "killed", "equiv.", "survived", "ratio", "time")
    print("\n" + f"{'target':<22}" + "".join(f"{c:>9}" for c in columns))
    for result in results:
        equal = [m for m in result.survivors if m.key in known]
        live = result.total - len(equal)
        ratio = result.killed / live if live else 1.0
        print(
            f"{result.name:<22}{result.total:>9}{result.killed:>9}{len(equal):>9}"
            f"{len(result.survivors) - len(equal):>9}{ratio:>9.1%}{result.seconds:>8.0f}s"
        )
        total += result.total
        killed += result.killed
        equivalent += len(equal)
        unexplained += [m for m in result.survivors if m.key not in known]
    live = total - equivalent
    ratio = killed / live if live else 1.0
    print(
        f"\nKilled {killed} of {live} non-equivalent mutants: {ratio:.1%} "
        f"(target {TARGET_RATIO:.0%}; {equivalent} equivalent of {total} run)."
    )
    survivors = [m for r in results for m in r.survivors]
    if survivors:
        print("\nSurviving mutants:")
    for m in survivors:
        why = known.get(m.key)
        label = f"equivalent: {why}" if why else "NOT KILLED"
        print(f"  {m.path}:{m.line} {m.operator}  [{label}]")
        print(f"      - {m.before}\n      + {m.after}")
    incompetent = sum(r.incompetent for r in results)
    if incompetent:
        print(f"\n{incompetent} mutant(s) could not run (incompetent): see .mutation/*.sqlite.")
    return ratio >= TARGET_RATIO and not unexplained


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help="targets of mutation/targets.py (default: all)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--report", action="store_true", help="report the last run again")
    args = parser.parse_args()
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:<22}{target.path} {' '.join(target.functions)}")
        return
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        sys.exit(f"Unknown target(s) {', '.join(unknown)}; one of: {', '.join(TARGETS)}")
    names = args.targets or list(TARGETS)
    if args.report:
        sessions = [(n, WORK / f"{n}.sqlite") for n in names]
        done = [collect(n, TARGETS[n], path) for n, path in sessions if path.exists()]
        sys.exit(0 if report(done, equivalents()) else 1)
    WORK.mkdir(exist_ok=True)
    copy_tree()
    database = f"portal_mutate_{os.getpid()}"
    env = {**start_postgres(database), "PYTHONDONTWRITEBYTECODE": "1"}
    results = []
    started = time.monotonic()
    try:
        for index, name in enumerate(names):
            print(f"Mutating {name} ({TARGETS[name].path})...", flush=True)
            results.append(mutate(name, TARGETS[name], env, first=index == 0))
            print(f"  {results[-1].total} mutants, {results[-1].killed} killed", flush=True)
    finally:
        drop_postgres(database)
    ok = report(results, equivalents())
    print(f"\nmake mutate took {(time.monotonic() - started) / 60:.1f} minutes.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
