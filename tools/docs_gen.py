"""Generate docs/hooks.md, the hook reference, from the hookspec docstrings.

Run it after changing a hookspec or a hook implementation in ``examples/``::

    python tools/docs_gen.py            # rewrite docs/hooks.md
    python tools/docs_gen.py --check    # exit 1 if docs/hooks.md is out of date (CI)

Why generated: the docstrings in :mod:`agentbot.runtime.hookspecs` are the reference (they
are what ``help()`` and an IDE show); a hand-kept copy would drift. tests/docs/ fails when
the file is stale, as datasette's documentation tests do. It lives in tools/, not in the
package: it reads the repository (docs/, examples/), which an installed agentbot does not
have, and nothing in agentbot/ may import it (tests/test_layers.py).

Each hook gets a section titled by its signature, the hookspec's docstring (reStructuredText
roles turned into Markdown), and an example: the shortest implementation of that hook in a
real file under ``examples/`` (tested in CI), else the docstring's own example.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

__all__ = [
    "HookDoc",
    "HookExample",
    "find_examples",
    "main",
    "parse_hookspecs",
    "render_hooks_md",
    "rst_to_markdown",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
HOOKSPECS = REPO_ROOT / "agentbot" / "runtime" / "hookspecs.py"
EXAMPLES = REPO_ROOT / "examples"
HOOKS_MD = REPO_ROOT / "docs" / "hooks.md"
MAX_EXAMPLE_LINES = 30

_BANNER = re.compile(r"^# -{20,}\n# (?P<title>[^\n]+)\n# -{20,}$", re.MULTILINE)


@attrs.frozen(kw_only=True)
class HookDoc:
    """One hookspec: its name, phase, signatures and docstring."""

    name: str
    phase: str
    signature: str
    """Parameter names only: ``on_start(bot)``."""
    annotated: str
    """The full annotated ``def`` line, as written in hookspecs.py."""
    docstring: str


@attrs.frozen(kw_only=True)
class HookExample:
    """An implementation of a hook in a real file."""

    hook: str
    path: str
    """Relative to the repository root, with forward slashes."""
    source: str


def _is_marked(node: ast.FunctionDef | ast.AsyncFunctionDef, marker: str) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == marker:
            return True
    return False


def parse_hookspecs(source: str) -> list[HookDoc]:
    """Return every ``@hookspec`` function in ``source``, in order, with its phase banner."""
    tree = ast.parse(source)
    lines = source.splitlines()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    banners = [(match.start(), match.group("title")) for match in _BANNER.finditer(source)]
    hooks: list[HookDoc] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not _is_marked(node, "hookspec"):
            continue
        start = offsets[node.lineno - 1]
        phase = next((title for at, title in reversed(banners) if at < start), "Hooks")
        phase = re.sub(r"\s*\(.*\)$", "", phase)
        names = [arg.arg for arg in node.args.args]
        returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
        params = ", ".join(
            f"{arg.arg}: {ast.unparse(arg.annotation)}" if arg.annotation else arg.arg
            for arg in node.args.args
        )
        hooks.append(
            HookDoc(
                name=node.name,
                phase=phase,
                signature=f"{node.name}({', '.join(names)})",
                annotated=f"def {node.name}({params}){returns}",
                docstring=ast.get_docstring(node) or "",
            )
        )
    return hooks


def find_examples(root: Path, hooks: Iterable[str]) -> dict[str, HookExample]:
    """Return, per hook, its shortest implementation in ``root`` (``@hookimpl`` functions).

    Test files are skipped (they show tests, not plugins); ties go to the first file in
    path order, so the choice is stable.
    """
    wanted = set(hooks)
    found: dict[str, HookExample] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).as_posix()
        if path.name.startswith("test_") or "tests" in path.relative_to(root).parts:
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name not in wanted or not _is_marked(node, "hookimpl"):
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            snippet = textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno]))
            if snippet.count("\n") + 1 > MAX_EXAMPLE_LINES:
                continue
            best = found.get(node.name)
            if best is None or len(snippet) < len(best.source):
                found[node.name] = HookExample(hook=node.name, path=relative, source=snippet)
    return found


_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc):`~?(?P<target>[^`]+)`")


def _role(match: re.Match[str], hook_names: set[str]) -> str:
    target = match.group("target")
    short = target.rsplit(".", 1)[-1]
    if short in hook_names:
        return f"[`{short}`](#{short})"
    return f"`{short if match.group(0).count('~') else target}`"


def rst_to_markdown(text: str, hook_names: Iterable[str] = ()) -> str:
    """Turn a hookspec docstring (reStructuredText) into Markdown.

    Handles what the hookspecs use: ````literal```` → `` `literal` ``, ``:func:`x``` roles
    (hook names become links to their section), and ``Example::`` blocks → fenced Python.
    """
    names = set(hook_names)
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.rstrip().endswith("::"):
            lead = line.rstrip()[:-2].rstrip()
            out.append(_inline(f"{lead}:" if lead else "", names))
            index += 1
            block: list[str] = []
            while index < len(lines) and (not lines[index].strip() or lines[index][:1] == " "):
                block.append(lines[index])
                index += 1
            code = textwrap.dedent("\n".join(block)).strip("\n")
            out.extend(["", "```python", code, "```", ""])
            continue
        out.append(_inline(line, names))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _inline(line: str, names: set[str]) -> str:
    line = _ROLE.sub(lambda match: _role(match, names), line)
    return re.sub(r"``([^`]+)``", r"`\1`", line)


def render_hooks_md(hooks: Sequence[HookDoc], examples: dict[str, HookExample], intro: str) -> str:
    """Return the whole hooks.md for ``hooks`` (in order) and their ``examples``."""
    names = [hook.name for hook in hooks]
    parts = [
        "# Hook reference",
        "",
        "<!-- Generated by `python tools/docs_gen.py` from agentbot/runtime/hookspecs.py and"
        " the plugins in examples/. Do not edit by hand: change the docstrings and rerun it"
        " (tests/docs/ fails while this file is out of date). -->",
        "",
        "Every hook an agentbot plugin can implement. Plugins are introduced in the"
        " [plugin tutorial](plugin-tutorial.md); how they are enabled and configured is in"
        " [configuration.md](configuration.md).",
        "",
        rst_to_markdown(intro, names).rstrip(),
        "",
        "## Contents",
        "",
    ]
    phases: dict[str, list[HookDoc]] = {}
    for hook in hooks:
        phases.setdefault(hook.phase, []).append(hook)
    for phase, members in phases.items():
        links = ", ".join(f"[`{hook.name}`](#{hook.name})" for hook in members)
        parts.append(f"- {phase}: {links}")
    for phase, members in phases.items():
        parts += ["", f"## {phase}"]
        for hook in members:
            parts += [
                "",
                f'<a id="{hook.name}"></a>',
                "",
                f"### `{hook.signature}`",
                "",
                "```python",
                hook.annotated,
                "```",
                "",
                rst_to_markdown(hook.docstring, names).rstrip(),
            ]
            example = examples.get(hook.name)
            if example is not None:
                parts += [
                    "",
                    f"In a real plugin, [`{example.path}`](../{example.path}):",
                    "",
                    "```python",
                    example.source,
                    "```",
                ]
    return "\n".join(parts).rstrip() + "\n"


def build() -> str:
    """Render hooks.md from the files in this checkout."""
    source = HOOKSPECS.read_text(encoding="utf-8")
    hooks = parse_hookspecs(source)
    intro = ast.get_docstring(ast.parse(source)) or ""
    # The module docstring's first paragraph is its own title; the rest is the intro.
    intro = intro.split("\n\n", 1)[1] if "\n\n" in intro else ""
    return render_hooks_md(hooks, find_examples(EXAMPLES, [h.name for h in hooks]), intro)


def main(argv: Sequence[str] | None = None) -> int:
    """Write docs/hooks.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(prog="python tools/docs_gen.py", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if hooks.md is stale")
    args = parser.parse_args(argv)
    rendered = build()
    current = HOOKS_MD.read_text(encoding="utf-8") if HOOKS_MD.is_file() else None
    if args.check:
        if current != rendered:
            print(f"{HOOKS_MD.name} is out of date: run `python tools/docs_gen.py`")
            return 1
        print(f"{HOOKS_MD.name} is up to date")
        return 0
    if current != rendered:
        HOOKS_MD.write_text(rendered, encoding="utf-8")
        print(f"wrote {HOOKS_MD.relative_to(REPO_ROOT)}")
    else:
        print(f"{HOOKS_MD.relative_to(REPO_ROOT)} was up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
