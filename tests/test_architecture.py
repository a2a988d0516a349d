"""The layers ARCHITECTURE.md describes, checked on the source: they fail when someone breaks them."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("calibration_lab", "shift_lab", "explore", "try_digit", "embedding_map", "errors", "compare",
         "your_predictions")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def _py(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_uqcore_never_imports_streamlit_and_only_plots_imports_plotly():
    for path in _py("uqcore") + _py("dashboard"):
        mods = _imports(path)
        if path.is_relative_to(ROOT / "uqcore"):
            assert not any(m.split(".")[0] == "streamlit" for m in mods), path
        if path != ROOT / "uqcore" / "plots.py":
            assert not any(m.split(".")[0] == "plotly" for m in mods), f"{path} imports plotly"


def test_page_logic_is_plain_python_and_no_uqcore_module_is_named_after_a_page():
    for path in _py("dashboard/logic"):
        assert not any(m.split(".")[0] == "streamlit" for m in _imports(path)), path
    for path in _py("uqcore"):
        assert path.stem not in PAGES, f"{path} is named after a page"


def test_only_the_accessor_spells_prediction_keys():
    """A predictions key is '<set>/<method>/<field>' (or '<set>/x', '<set>/y', '<set>/meta/...')."""
    key = re.compile(r"""["'][^"'\n]*/(probs|logits|total|aleatoric|epistemic|ood_score|embeddings|x|y|info|meta/[a-z_{}]+)["']""")
    for path in _py("uqcore") + _py("dashboard"):
        if path.name in ("predictions.py", "file_path.py"):  # the accessor; the file-path stage's own artifact
            continue
        hits = [line for line in path.read_text().splitlines() if key.search(line) and "import" not in line]
        assert not hits, f"{path}: {hits}"


def test_pages_only_compose():
    for path in _py("dashboard/views"):
        n = len(path.read_text().splitlines())
        assert n <= 150, f"{path.name} has {n} lines"


def test_no_torch_func_transforms_where_server_threads_read():
    """Every method serves all server sessions' threads at once; torch.func's transforms (vmap, grad, ...) keep
    their levels across threads (two readings at once raised 'your tensor may have escaped from vmap' or gave
    other numbers), so neither uqcore nor the dashboard imports torch.func at all."""
    found = []
    for path in [*(ROOT / "uqcore").rglob("*.py"), *(ROOT / "dashboard").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            name = (ast.unparse(node) if isinstance(node, ast.Attribute | ast.Name) else
                    f"from {node.module} import" if isinstance(node, ast.ImportFrom) and node.module else "")
            if re.match(r"(torch\.func\b|functorch\b|torch\.vmap\b|from (torch\.func|functorch))", name):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not found, found


def test_a_page_title_needs_no_torch():
    """What the app and every page import before their title (the glossary's widgets, the verdict's constants, the
    resources) loads no torch (~1 s on 2 cores): the title shows first, the models load after it."""
    import subprocess
    import sys

    code = ("import sys; import dashboard.widgets, dashboard.resources, uqcore.verdict; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_verdict_falls_back_to_the_default_method():
    from uqcore.methods import DEFAULT_METHOD
    from uqcore.verdict import FALLBACK_SOURCE

    assert FALLBACK_SOURCE == DEFAULT_METHOD  # spelled out in uqcore.verdict so that it need not import torch
