"""The shape of the code: the core (nianbao/) is free of the orchestrator, and only nianbao/model/settings.py
reads the environment. Read from the source's syntax trees, so a new module is checked too."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = sorted((ROOT / "nianbao").rglob("*.py"))


# Each layer may import the layers of lower rank only (its own package freely); equal ranks are
# siblings that never import each other.
RANKS = {
    "model": 0,
    "extract": 1,
    "warehouse": 1,
    "acquire": 2,
    "interpret": 3,
    "check": 4,
    "run": 5,
    "report": 6,
    "tasks": 7,
    "flows": 8,
}


def _layer(module: str) -> str | None:
    """The layer of a dotted module name: nianbao.<layer>.… or flows/tasks; None for others."""
    parts = module.split(".")
    if parts[0] in ("flows", "tasks"):
        return parts[0]
    if parts[0] == "nianbao" and len(parts) > 1 and parts[1] in RANKS:
        return parts[1]
    return None


def _targets(path: Path) -> list[tuple[int, str]]:
    """Every nianbao/flows/tasks module a file imports, at any depth (functions too), with its line;
    `from nianbao.x import y` counts as nianbao.x.y where y is a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += (
                [(node.lineno, f"nianbao.{a.name}") for a in node.names]
                if node.module == "nianbao"
                else [(node.lineno, node.module)]
            )
    return found


def _upward(files) -> list[str]:
    wrong = []
    for path in files:
        mine = _layer(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for line, target in _targets(path):
            theirs = _layer(target)
            if mine and theirs and theirs != mine and RANKS[theirs] >= RANKS[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
    return wrong


def test_every_layer_imports_only_layers_below_it():
    code = [*CORE, *(ROOT / "flows").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")]
    assert {_layer(".".join(p.relative_to(ROOT).with_suffix("").parts)) for p in CORE} - {None} == set(RANKS) - {
        "flows",
        "tasks",
    }
    assert [
        p for p in CORE if p.parent == ROOT / "nianbao" and p.name != "__init__.py"
    ] == []  # every module in a layer
    assert _upward(code) == []


def test_the_layer_check_fails_on_an_upward_import(tmp_path):
    """The check above can fail: a model module importing the run layer lazily is caught."""
    bad = tmp_path / "nianbao" / "model" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("def f():\n    from nianbao.run import pipeline\n    from nianbao import check\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert _upward([bad]) == [
            "nianbao/model/bad.py:2 (model) imports nianbao.run (run)",
            "nianbao/model/bad.py:3 (model) imports nianbao.check (check)",
        ]
    finally:
        ROOT = saved


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_imports_neither_flows_nor_tasks():
    assert len(CORE) > 20
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & {"flows", "tasks"}) for p in CORE}
    assert {p: names for p, names in offenders.items() if names} == {}


def test_importing_the_core_loads_no_orchestrator():
    """Every module of nianbao/ imported in a fresh interpreter (the import smoke: none fails), and
    neither flows nor tasks is loaded."""
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in CORE if p.name != "__main__.py"]
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flows', 'tasks')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def _reads_environment(path: Path) -> list[int]:
    """Lines that touch os.environ / os.getenv / os.putenv."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "putenv", "unsetenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & {"environ", "getenv", "putenv"}
        ):
            lines.append(node.lineno)
    return lines


def test_only_settings_reads_the_environment():
    code = [*CORE, *(ROOT / "flows").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")]
    readers = {str(p.relative_to(ROOT)): _reads_environment(p) for p in code}
    assert readers.pop("nianbao/model/settings.py")
    assert {p: lines for p, lines in readers.items() if lines} == {}


def test_a_missing_shared_skips_here_but_fails_in_ci(monkeypatch, tmp_path):
    """Every test reading ../shared finds it through conftest, whose missing() fails under CI=true."""
    import conftest
    import pytest

    monkeypatch.setattr(conftest, "SEEDS", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: \.\./shared must be there"):
        conftest.seed("000")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        conftest.seed("000")
    elsewhere = [
        p
        for p in (ROOT / "tests").rglob("*.py")
        if p.name not in ("conftest.py", Path(__file__).name)
        and any(w in p.read_text(encoding="utf-8") for w in ("/work/shared", '/ "shared"', "'shared'"))
    ]
    assert elsewhere == []  # ../shared is located by conftest only
