"""One error hierarchy: every error nianbao raises for a user to read is a NianbaoError of one blame,
whose exit code the command returns; other exception classes are private control flow."""

import ast
from pathlib import Path

from nianbao.model import errors

ROOT = Path(__file__).resolve().parents[2]
CONTROL_FLOW = {"Stopped", "PreconditionFailed"}  # a run stopping; a conditional write that lost its race


def test_blame_and_exit_codes():
    assert [(c.__name__, c.exit_code) for c in (errors.DocumentError, errors.UsageError, errors.RunError)] == [
        ("DocumentError", 1),
        ("UsageError", 2),
        ("RunError", 3),
    ]
    blame = {
        name: next(b.__name__ for b in cls.__mro__ if b in (errors.DocumentError, errors.UsageError, errors.RunError))
        for name, cls in vars(errors).items()
        if isinstance(cls, type)
        and issubclass(cls, errors.NianbaoError)
        and cls not in (errors.NianbaoError, errors.DocumentError, errors.UsageError, errors.RunError)
    }
    assert blame == {
        "Unreadable": "DocumentError",
        "FetchError": "DocumentError",
        "SettingsError": "UsageError",
        "NoSuchReport": "UsageError",
        "WarehouseError": "RunError",
        "LeaseLost": "RunError",
        "SuiteError": "RunError",
    }
    assert issubclass(errors.WarehouseError, OSError) and issubclass(errors.UsageError, ValueError)


def test_no_public_exception_class_outside_the_errors_module():
    found = []
    for path in [*(ROOT / "nianbao").rglob("*.py"), *(ROOT / "flows").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")]:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ClassDef)
                and not node.name.startswith("_")
                and node.name not in CONTROL_FLOW
                and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in dir(errors))
                    for b in node.bases
                )
            ):
                found.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert found == ["flows/ingest.py: ReportsFailed"]  # the flow's Failed state's data, carrying the summary
