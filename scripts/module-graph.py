#!/usr/bin/env python3
"""Prints the module import graph of one crate and fails on a cycle.

    python3 scripts/module-graph.py runtime/src

An edge `a -> b` is a `crate::b` path (or `crate::Item` for an item lib.rs re-exports from
`b`) in the code of module `a`; comments and doc comments are skipped, so intra-doc links do
not count. Modules are the `mod` declarations of lib.rs (`#[path]` honoured); a module kept
as `name/mod.rs` is read from that file only, so its own submodules are not followed.
It also fails when a module uses an item defined in lib.rs itself, which would make the
facade part of a cycle. Output: one line per module, then its layer list (leaves first).
"""
import os
import re
import sys


def strip_comments(text):
    """Drops `//` comments (and so `///`, `//!`) outside string literals."""
    lines = []
    for line in text.split("\n"):
        in_string, cut = False, len(line)
        for i, c in enumerate(line):
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                in_string = not in_string
            elif not in_string and line.startswith("//", i):
                cut = i
                break
        lines.append(line[:cut])
    return "\n".join(lines)


def graph(src):
    lib = open(os.path.join(src, "lib.rs")).read()
    modules, path = {}, None
    for line in lib.split("\n"):
        m = re.match(r'\s*#\[path\s*=\s*"([^"]+)"\]', line)
        if m:
            path = m.group(1)
            continue
        m = re.match(r"\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*;", line)
        if m:
            name = m.group(3)
            file = os.path.join(src, path or name + ".rs")
            if not os.path.exists(file):
                file = os.path.join(src, name, "mod.rs")
            modules[name] = file
            path = None
    reexported = {}
    for m in re.finditer(r"pub use (\w+)::\{?([^;]*?)\}?;", strip_comments(lib)):
        if m.group(1) in modules:
            for item in re.split(r"[,\s]+", m.group(2)):
                if item:
                    reexported[item] = m.group(1)
    edges = {}
    for name, file in modules.items():
        code = strip_comments(open(file).read())
        targets = set()
        for m in re.finditer(r"\bcrate::(\w+)", code):
            target = m.group(1)
            target = target if target in modules else reexported.get(target, "lib.rs")
            if target != name:
                targets.add(target)
        edges[name] = targets
    return edges


def main(src):
    edges = graph(src)
    for name in sorted(edges):
        print(f"{name} -> {', '.join(sorted(edges[name])) or '-'}")
    failed = False
    facade_users = sorted(n for n, t in edges.items() if "lib.rs" in t)
    if facade_users:
        print("error: items defined in lib.rs are used by:", ", ".join(facade_users))
        failed = True
    layer, visiting = {}, set()

    def depth(name):
        if name in layer:
            return layer[name]
        if name in visiting:
            raise ValueError(name)
        visiting.add(name)
        layer[name] = 1 + max((depth(t) for t in edges[name] if t in edges), default=0)
        visiting.discard(name)
        return layer[name]

    try:
        for name in edges:
            depth(name)
    except ValueError as cycle:
        print(f"error: module cycle through `{cycle}`")
        return 1
    print("layers, leaves first:")
    for k in range(1, max(layer.values(), default=0) + 1):
        print(f"  {k}. {', '.join(sorted(n for n in layer if layer[n] == k))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
