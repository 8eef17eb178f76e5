"""Apply real public Supabase migration folders with the wizard, each on a fresh local database.

    python bench/real_folders.py                 # every folder of bench/real_folders.toml
    python bench/real_folders.py --only feed     # some of them, by name
    python bench/real_folders.py --clone         # fetch the repositories from GitHub first

The folders are not part of this repository: bench/real_folders.toml names each one (repository,
commit, folder) and the script takes it from a local bare mirror of the repository (default
$WIZARD_BENCH_MIRRORS or bench/mirrors, as <owner>+<name>/repo; or --mirrors DIR), or with --clone from
https://github.com/<owner>/<name> into a cache directory. For each folder, in a temporary
directory that is removed afterwards:

1. `git archive` of the commit's migration folder, with the supabase/config.toml and seed files
   beside it when the commit has them, extracted as a project would have them;
2. `migration-wizard plan --local --local-dir DIR --migrations FOLDER --json`, DIR a new, empty
   directory: the local default as a new user meets it (initdb, the embedded server started);
3. `migration-wizard apply --local --local-dir DIR --migrations FOLDER --yes --json` on the same,
   still empty, database: how far it goes, where it stops (file:line, SQLSTATE, message);
4. whether `plan` predicted the stop: a pre-flight finding of the same file and line, the same
   file, or naming the same object; then the local server is stopped and DIR removed.

The table goes to stdout, progress to stderr; --json FILE (default bench/results/real_folders-<date>.json,
bench/results/ is ignored by git) keeps every command's output. The migration folders themselves
are never copied into the repository.

Only the standard library (Python 3.11+, for tomllib) and git are needed besides the wizard: the
`migration-wizard` beside this interpreter, else the project's .venv, else the one on PATH
(--wizard PATH to choose).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MANIFEST = HERE / "real_folders.toml"
RESULTS = HERE / "results"
DEFAULT_MIRRORS = Path(os.environ.get("WIZARD_BENCH_MIRRORS") or Path(__file__).resolve().parent / "mirrors")
DEFAULT_CLONES = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migration-wizard-bench"
COMMAND_TIMEOUT = 300
SUPABASE_SCHEMAS = ("auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public", "net",
                    "cron", "supabase_functions", "pgsodium", "supabase_migrations")
SUPABASE_ROLES = ("authenticator", "supabase_admin", "supabase_auth_admin", "supabase_storage_admin",
                  "dashboard_user", "supabase_realtime_admin", "pgbouncer", "supabase_functions_admin",
                  "pgsodium_keyholder", "pgsodium_keyiduser", "pgsodium_keymaker", "postgres")


class BenchError(Exception):
    pass


# -- the folders ------------------------------------------------------------------------------


@dataclass
class Folder:
    name: str
    repo: str
    commit: str
    path: str  # the migrations folder inside the repository
    mirror: str | None = None  # a bare git directory, when not <mirrors>/<owner>+<name>/repo

    @property
    def short(self) -> str:
        return self.commit[:7]


def load_manifest(path: Path) -> list[Folder]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BenchError(f"cannot read the manifest {path}: {exc}") from None
    folders = []
    for entry in data.get("folder", []):
        try:
            folder = Folder(**entry)
        except TypeError as exc:
            raise BenchError(f"{path}: bad [[folder]] entry {entry.get('name', entry)}: {exc}") from None
        if not re.fullmatch(r"[0-9a-f]{40}", folder.commit):
            raise BenchError(f"{path}: {folder.name}: the commit must be 40 hex digits")
        folders.append(folder)
    names = [f.name for f in folders]
    if len(set(names)) != len(names):
        raise BenchError(f"{path}: two folders have the same name")
    return folders


def git(git_dir: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=not binary,
                          timeout=COMMAND_TIMEOUT)


def git_dir_for(folder: Folder, mirrors: Path, clone: bool, clones: Path) -> Path:
    owner, name = folder.repo.split("/", 1)
    candidates = [Path(folder.mirror)] if folder.mirror else []
    candidates.append(mirrors / f"{owner}+{name}" / "repo")
    if clone:
        candidates.append(clones / f"{owner}+{name}.git")
    for candidate in candidates:
        if candidate.is_dir() and git(candidate, "cat-file", "-e", f"{folder.commit}^{{commit}}").returncode == 0:
            return candidate
    if not clone:
        raise BenchError(f"no mirror holds {folder.repo}@{folder.short} (looked in {', '.join(map(str, candidates))}); "
                         "pass --mirrors DIR or --clone")
    target = clones / f"{owner}+{name}.git"
    url = f"https://github.com/{folder.repo}"
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["git", "clone", "--quiet", "--bare", "--filter=blob:none", url, str(target)],
                                capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise BenchError(f"git clone {url} failed: {result.stderr.strip()}")
    if git(target, "cat-file", "-e", f"{folder.commit}^{{commit}}").returncode != 0:
        result = git(target, "fetch", "--quiet", "--filter=blob:none", "origin", folder.commit)
        if result.returncode != 0:
            raise BenchError(f"git fetch {url} {folder.commit} failed: {result.stderr.strip()}")
    return target


def extract(folder: Folder, git_dir: Path, into: Path) -> Path:
    """The migration folder at the commit, with config.toml and seed files beside it; returns the
    migrations directory."""
    parent = folder.path.rsplit("/", 1)[0] if "/" in folder.path else ""
    listing = git(git_dir, "ls-tree", "--name-only", folder.commit, f"{parent}/" if parent else ".")
    if listing.returncode != 0:
        raise BenchError(f"git ls-tree {folder.short} failed: {listing.stderr.strip()}")
    beside = [p for p in listing.stdout.split() if re.fullmatch(r"(.*/)?(config\.toml|seed[^/]*\.sql|seed)", p)]
    paths = [folder.path, *beside]
    archive = git(git_dir, "archive", "--format=tar", folder.commit, "--", *paths, binary=True)
    if archive.returncode != 0:  # a file beside the folder may be missing from a partial mirror
        archive = git(git_dir, "archive", "--format=tar", folder.commit, "--", folder.path, binary=True)
    if archive.returncode != 0:
        raise BenchError(f"git archive {folder.short} {folder.path} failed: {archive.stderr.decode(errors='replace').strip()}")
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=COMMAND_TIMEOUT)
    migrations = into / folder.path
    if not migrations.is_dir():
        raise BenchError(f"{folder.repo}@{folder.short} has no folder {folder.path}")
    return migrations


# -- what a folder uses -----------------------------------------------------------------------

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_FEATURES = [
    ("auth.users FK", r"references\s+\"?auth\"?\s*\.\s*\"?users\"?"),
    ("auth.users trigger", r"\bon\s+\"?auth\"?\s*\.\s*\"?users\"?"),
    ("auth.users read", r"\bfrom\s+\"?auth\"?\s*\.\s*\"?users\"?|\bjoin\s+\"?auth\"?\s*\.\s*\"?users\"?"),
    ("auth.uid()", r"\bauth\s*\.\s*uid\s*\("),
    ("auth.jwt()", r"\bauth\s*\.\s*jwt\s*\("),
    ("auth.role()", r"\bauth\s*\.\s*role\s*\("),
    ("auth.email()", r"\bauth\s*\.\s*email\s*\("),
    ("storage.buckets", r"\"?storage\"?\s*\.\s*\"?buckets\"?"),
    ("storage.objects", r"\"?storage\"?\s*\.\s*\"?objects\"?"),
    ("storage.foldername()", r"storage\"?\s*\.\s*\"?foldername"),
    ("realtime publication", r"publication\s+\"?supabase_realtime"),
    ("DO block", r"(^|;)\s*do\s+(\$|language)"),
    ("plpgsql", r"language\s+'?plpgsql"),
    ("security definer", r"security\s+definer"),
    ("pg_cron", r"\bcron\s*\.\s*(schedule|unschedule|job)|\bpg_cron\b"),
    ("pg_net", r"\bnet\s*\.\s*http_|\bpg_net\b"),
    ("http", r"\bextension\s+(if\s+not\s+exists\s+)?\"?http\b|\bextensions\.http"),
    ("vault", r"\bvault\s*\.|supabase_vault"),
    ("pgsodium", r"\bpgsodium\b"),
    ("supabase_functions", r"\bsupabase_functions\b"),
    ("CONCURRENTLY", r"\bconcurrently\b"),
    ("BEGIN/COMMIT", r"(^|;)\s*(begin|commit)\s*;"),
]
_EXTENSION = re.compile(r"create\s+extension\s+(?:if\s+not\s+exists\s+)?\"?([\w-]+)\"?([^;]*)", re.I)
_GRANT_TO = re.compile(r"\bgrant\s[^;]*?\bto\s+([^;]+)", re.I | re.S)


def uses(migrations: Path) -> dict:
    """What the folder uses, read from its text (comments left out): a rough scan for the report."""
    text = "\n".join(_COMMENTS.sub(" ", p.read_text(encoding="utf-8", errors="replace")).lower()
                     for p in sorted(migrations.glob("*.sql")))
    found = [label for label, pattern in _FEATURES if re.search(pattern, text, re.M)]
    extensions = sorted({m.group(1) + (" (extensions)" if re.search(r"schema\s+\"?extensions", m.group(2)) else "")
                         for m in _EXTENSION.finditer(text)})
    roles = set()
    for m in _GRANT_TO.finditer(text):
        for role in re.split(r"\s*,\s*", m.group(1).split(" with ")[0].strip()):
            role = role.strip().strip('"')
            if re.fullmatch(r"\w+", role):
                roles.add(role)
    schemas = sorted({s for s in SUPABASE_SCHEMAS if re.search(rf"\b{s}\s*\.", text) or f'"{s}".' in text})
    project = migrations.parent
    return {
        "features": found,
        "extensions": extensions,
        "granted_to": sorted(roles),
        "supabase_roles": sorted(r for r in SUPABASE_ROLES if re.search(rf"\b{r}\b", text)),
        "supabase_schemas": schemas,
        "config_toml": (project / "config.toml").is_file(),
        "seed": sorted(p.name for p in project.glob("seed*") if p.name != "seed" or p.is_dir()),
    }


# -- running the wizard ------------------------------------------------------------------------


def find_wizard(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    for candidate in (Path(sys.executable).parent / "migration-wizard", ROOT / ".venv" / "bin" / "migration-wizard"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("migration-wizard")
    if found:
        return [found]
    raise BenchError("migration-wizard is not installed: make the project's venv (see README.md) or pass --wizard")


def clean_env() -> dict:
    """The environment without anything that could point the wizard at another database."""
    drop = ("DATABASE_URL", "DIRECT_URL", "POSTGRES_URL", "POSTGRES_URL_NON_POOLING")
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith(("SUPABASE_", "PG", "WIZARD_"))}


@dataclass
class Step:
    argv: list[str]
    exit_code: int | None
    seconds: float
    stdout: str
    stderr: str

    def document(self) -> dict:
        try:
            return json.loads(self.stdout) if self.stdout.strip() else {}
        except json.JSONDecodeError:
            return {}


def run_step(argv: list[str], cwd: Path) -> Step:
    started = time.perf_counter()
    try:
        result = subprocess.run(argv, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                                stdin=subprocess.DEVNULL)
        return Step(argv, result.returncode, time.perf_counter() - started, result.stdout, result.stderr)
    except subprocess.TimeoutExpired as exc:
        return Step(argv, None, time.perf_counter() - started, str(exc.stdout or ""), f"timed out after {COMMAND_TIMEOUT} s")


@dataclass
class Result:
    name: str
    repo: str
    commit: str
    path: str
    files: int = 0
    uses: dict = field(default_factory=dict)
    plan_exit: int | None = None
    plan_errors: list[dict] = field(default_factory=list)
    plan_warnings: list[dict] = field(default_factory=list)
    apply_exit: int | None = None
    applied: int = 0
    total: int = 0
    outcome: str = ""  # applied | stopped | refused | error
    stop: dict | None = None  # file, line, sqlstate, message (or the refusal)
    predicted: str = ""
    category: str = ""
    seconds: float = 0.0
    steps: list[dict] = field(default_factory=list)
    error: str | None = None


def _version(filename: str | None) -> str | None:
    if not filename:
        return None
    base = Path(filename).name
    return base.split("_", 1)[0]


def _objects(message: str) -> set[str]:
    """Names a PostgreSQL message is about: quoted identifiers and function names, last part only."""
    names = set()
    for quoted in re.findall(r"\"([^\"]+)\"", message):
        names.add(quoted.split(".")[-1].lower())
    for function in re.findall(r"function ([\w.]+)\(", message):
        names.add(function.split(".")[-1].lower())
    return {n for n in names if n}


def predicted_by(stop: dict, findings: list[dict]) -> str:
    """Whether a pre-flight finding (error or warning) pointed at the failure before it happened."""
    version = _version(stop.get("file"))
    same_file = [f for f in findings if _version(f.get("file")) == version]
    objects = _objects(stop.get("message") or "")

    def names(finding: dict) -> bool:
        message = (finding.get("message") or "").lower()
        return any(re.search(rf"\b{re.escape(o)}\b", message) for o in objects)

    if any(f.get("line") == stop.get("line") for f in same_file):
        return "yes: same line"
    if any(names(f) for f in same_file):
        return "yes: same file, same object"
    if any(names(f) for f in findings):
        return "partly: the object, in another file"
    if same_file:
        return "no (other findings in the file)"
    return "no"


_SUPABASE_RELATION = re.compile(r"relation \"(auth|storage|realtime|vault|cron|net|supabase_functions|extensions)\.")


def categorise(stop: dict) -> str:
    """A first guess at the kind of failure; bench/README.md gives each its verdict."""
    sqlstate = stop.get("sqlstate") or ""
    message = stop.get("message") or ""
    schema = re.search(r"schema \"([\w]+)\" does not exist", message)
    if _SUPABASE_RELATION.search(message) or (schema and schema.group(1) in SUPABASE_SCHEMAS):
        return "missing Supabase object"
    if re.search(r"function (auth|storage|extensions|net|cron|vault|supabase_functions|pgsodium)\.", message):
        return "missing Supabase object"
    if re.search(r"role \"(%s)\" does not exist" % "|".join(SUPABASE_ROLES), message):
        return "missing Supabase role"
    if re.search(r"publication \"supabase_realtime\"", message):
        return "missing Supabase object"
    if sqlstate in ("58P01", "0A000") and "extension" in message:
        return "missing extension"
    if sqlstate == "42601":
        return "statement PostgreSQL does not parse"
    if sqlstate == "42883" and re.search(r"function (gen_random_bytes|uuid_generate_v\d|crypt|gen_salt|digest|hmac)\(", message):
        return "missing extension"
    if stop.get("kind") in ("folder-problems", "preflight"):
        return "refused before any SQL"
    return "other"


def prepare_local(wizard: list[str], local_dir: Path, prepare: list[Path], settings: list[str], cwd: Path) -> list[dict]:
    """Start the fresh local server and shape it first: server settings (ALTER SYSTEM, reloaded),
    then SQL files run by psql as the superuser. For what-if runs; the figures of bench/README.md
    are measured without."""
    steps = []
    start = run_step([*wizard, "local", "start", "--local-dir", str(local_dir)], cwd)
    steps.append(asdict(start))
    url = start.stdout.strip().splitlines()[-1] if start.exit_code == 0 and start.stdout.strip() else None
    if url is None:
        raise BenchError(f"the local server did not start: {start.stderr.strip()}")
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
    for setting in settings:
        name, _, value = setting.partition("=")
        step = run_step([*psql, "-c", f"ALTER SYSTEM SET {name} = '{value}'", "-c", "SELECT pg_reload_conf()"], cwd)
        steps.append(asdict(step))
        if step.exit_code != 0:
            raise BenchError(f"--setting {setting} failed: {step.stderr.strip()}")
    for path in prepare:
        step = run_step([*psql, "-f", str(path)], cwd)
        steps.append(asdict(step))
        if step.exit_code != 0:
            raise BenchError(f"--prepare {path} failed: {step.stderr.strip()}")
    return steps


def measure(folder: Folder, wizard: list[str], mirrors: Path, clone: bool, clones: Path, keep: bool,
            prepare: list[Path] = (), settings: list[str] = ()) -> Result:
    result = Result(folder.name, folder.repo, folder.commit, folder.path)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f"real-{folder.name}-"))
    local_dir = work / "local"
    try:
        git_dir = git_dir_for(folder, mirrors, clone, clones)
        project = work / "project"
        migrations = extract(folder, git_dir, project)
        result.files = len([p for p in migrations.iterdir() if p.suffix == ".sql"])
        result.uses = uses(migrations)
        target = ["--local", "--local-dir", str(local_dir), "--migrations", str(migrations), "--json"]
        if prepare or settings:
            result.steps += prepare_local(wizard, local_dir, prepare, settings, work)

        plan = run_step([*wizard, "plan", *target], project)
        result.steps.append(asdict(plan))
        result.plan_exit = plan.exit_code
        doc = plan.document()
        findings = doc.get("findings", [])
        result.plan_errors = [f for f in findings if f.get("severity") == "error"]
        result.plan_warnings = [f for f in findings if f.get("severity") == "warning"]
        result.total = len(doc.get("pending", [])) or result.files

        apply = run_step([*wizard, "apply", *target, "--yes"], project)
        result.steps.append(asdict(apply))
        result.apply_exit = apply.exit_code
        doc = apply.document()
        result.applied = len(doc.get("applied", []))
        if apply.exit_code == 0 and doc.get("ok"):
            result.outcome = "applied"
        elif doc.get("failed"):
            failed = doc["failed"]
            result.outcome = "stopped"
            result.stop = {k: failed.get(k) for k in ("file", "line", "sqlstate", "message", "detail", "statement")}
            result.stop["file"] = Path(failed.get("file") or "").name or None
            if doc.get("advice"):
                result.stop["advice"] = doc["advice"].get("key")
            result.predicted = predicted_by(result.stop, result.plan_errors + result.plan_warnings)
            result.category = categorise(result.stop)
        elif doc.get("error"):
            result.outcome = "refused"
            lines = [line.strip() for line in apply.stderr.splitlines() if line.strip().startswith(("pre-", "20", "0"))
                     or ":" in line and line.startswith("  ")]
            result.stop = {"kind": doc["error"].get("kind"), "message": doc["error"].get("message"),
                           "details": lines[:10]}
            result.predicted = "yes: plan exit 2" if plan.exit_code == 2 else "no"
            result.category = categorise(result.stop)
        else:
            result.outcome = "error"
            result.error = (apply.stderr.strip().splitlines() or ["no output"])[-1]
    except BenchError as exc:
        result.outcome = "error"
        result.error = str(exc)
    finally:
        if local_dir.exists():
            run_step([*wizard, "local", "stop", "--local-dir", str(local_dir)], work)
        if keep:
            print(f"  kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
        result.seconds = time.perf_counter() - started
    return result


# -- report ------------------------------------------------------------------------------------


def describe_stop(r: Result) -> str:
    if r.outcome == "applied":
        return "-"
    if r.outcome == "error":
        return f"could not run: {r.error}"
    stop = r.stop or {}
    if r.outcome == "refused":
        first = (stop.get("details") or [""])[0]
        return f"refused ({stop.get('kind')}): {first or stop.get('message')}"
    version = _version(stop.get("file"))
    message = (stop.get("message") or "").replace("\n", " ")
    return f"{version}:{stop.get('line')} {stop.get('sqlstate')} {message}"


def table(results: list[Result]) -> str:
    rows = ["| folder | commit | files | applied | result | stops at | plan predicted | kind |",
            "|---|---|---:|---:|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r.name} ({r.repo}) | {r.commit[:7]} | {r.files} | {r.applied}/{r.total} | {r.outcome} "
                    f"| {describe_stop(r).replace('|', '/')} | {r.predicted or '-'} | {r.category or '-'} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply real public Supabase migration folders on fresh local databases.")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the folders (default bench/real_folders.toml)")
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS,
                        help="where bare mirrors live, as <owner>+<name>/repo (default $WIZARD_BENCH_MIRRORS, else bench/mirrors)")
    parser.add_argument("--clone", action="store_true",
                        help="clone (bare, blobs on demand) from https://github.com/<repo> what no mirror holds")
    parser.add_argument("--clone-dir", type=Path, default=DEFAULT_CLONES, help="where --clone keeps its clones")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="measure only these folders")
    parser.add_argument("--wizard", help="the migration-wizard executable to measure")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/real_folders-<time>.json)")
    parser.add_argument("--keep", action="store_true", help="keep each folder's temporary directory")
    parser.add_argument("--uses", action="store_true", help="also print what each folder uses")
    parser.add_argument("--prepare", type=Path, action="append", default=[], metavar="SQL",
                        help="what-if: run this SQL file (psql, as the superuser) on each fresh local database first")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="what-if: a server setting for each fresh local server (ALTER SYSTEM, reloaded)")
    args = parser.parse_args(argv)
    try:
        folders = load_manifest(args.manifest)
        if args.only:
            unknown = set(args.only) - {f.name for f in folders}
            if unknown:
                raise BenchError(f"not in the manifest: {', '.join(sorted(unknown))}")
            folders = [f for f in folders if f.name in args.only]
        wizard = find_wizard(args.wizard)
    except BenchError as exc:
        print(f"real_folders: {exc}", file=sys.stderr)
        return 2
    head = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    revision = head.stdout.strip() or "unknown"
    print(f"migration-wizard at {revision}: {len(folders)} folder(s), each on a fresh --local-dir", file=sys.stderr)
    if args.prepare or args.setting:
        print("what-if run: each local database is prepared with " + ", ".join(
            [*(f"setting {s}" for s in args.setting), *map(str, args.prepare)]), file=sys.stderr)
    results = []
    started = time.perf_counter()
    for folder in folders:
        print(f"- {folder.name} ({folder.repo}@{folder.short}, {folder.path})", file=sys.stderr, flush=True)
        r = measure(folder, wizard, args.mirrors, args.clone, args.clone_dir, args.keep, args.prepare, args.setting)
        print(f"  {r.outcome} {r.applied}/{r.total} in {r.seconds:.1f} s: {describe_stop(r)}", file=sys.stderr, flush=True)
        results.append(r)
    elapsed = time.perf_counter() - started
    print(f"\nmigration-wizard at {revision}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{elapsed:.0f} s\n")
    print(table(results))
    fully = sum(r.outcome == "applied" for r in results)
    print(f"\n{fully} of {len(results)} folder(s) applied fully on the local default.")
    if args.uses:
        print()
        for r in results:
            u = r.uses
            print(f"{r.name}: {', '.join(u.get('features', []))}; extensions: {', '.join(u.get('extensions', [])) or '-'}; "
                  f"granted to: {', '.join(u.get('granted_to', [])) or '-'}; Supabase schemas: "
                  f"{', '.join(u.get('supabase_schemas', [])) or '-'}; config.toml: {'yes' if u.get('config_toml') else 'no'}; "
                  f"seed: {', '.join(u.get('seed', [])) or '-'}")
    out = args.json or RESULTS / f"real_folders-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"revision": revision, "seconds": elapsed, "results": [asdict(r) for r in results]},
                              indent=2), encoding="utf-8")
    print(f"\nResults written to {out}", file=sys.stderr)
    return 0 if all(r.outcome != "error" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
