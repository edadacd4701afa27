"""The string constants holding Chinese in a module's code, its docstrings left out: how the
tests check that people's words live in the label modules, not inline where they are said."""
from __future__ import annotations

import ast
import re
from pathlib import Path

HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese_constants(path: Path, chinese: re.Pattern[str] = HAN) -> list[tuple[int, str]]:
    """(line, text) of each string constant of the module at `path` that `chinese` finds in."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and chinese.search(node.value)]
