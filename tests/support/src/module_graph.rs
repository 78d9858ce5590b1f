//! The module import graph of a crate, read from its source with `syn`, so a test can hold
//! every crate of the workspace to "modules form a DAG" (ARCHITECTURE.md, "Module layering").
//!
//! A node is a module path (`""` is the crate root, `ts::types` a nested module). An edge
//! `a → b` means code in `a` names something in `b`: a `use` or any path starting with
//! `crate::`, `super::`, `self::` or one of `a`'s own child modules. Declaring `mod b;` is not
//! an edge (containment is not dependence), and neither is a path inside a macro invocation's
//! tokens. Names the root re-exports (`pub use router::Router`) resolve to the module that
//! defines them, so a facade `lib.rs` does not create a cycle, while an item *defined* in
//! `lib.rs` and used by a submodule does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The modules of one crate and the imports between them.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    /// Every module (by path) and the modules it imports from.
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

/// Why a crate's module graph could not be read.
#[derive(Debug)]
pub struct ReadError {
    /// The file that could not be read or parsed.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for ReadError {}

/// One module's source, before its paths are resolved to modules.
struct ModuleSource {
    /// Paths named in the module, each as its segments (`["crate", "frame", "Frame"]`).
    paths: Vec<Vec<String>>,
    /// Names the module brings into scope with `use`, and the path each refers to.
    imports: BTreeMap<String, Vec<String>>,
}

impl ModuleGraph {
    /// Reads the crate whose root file (`src/lib.rs`, `src/main.rs`, ...) is `root`.
    ///
    /// # Errors
    /// A module file that is missing or does not parse.
    pub fn read(root: &Path) -> Result<Self, ReadError> {
        let mut sources = BTreeMap::new();
        collect(root, String::new(), true, &mut sources)?;
        let modules: BTreeSet<String> = sources.keys().cloned().collect();
        let mut graph = ModuleGraph::default();
        for (module, source) in &sources {
            let mut targets = BTreeSet::new();
            for path in &source.paths {
                if let Some(target) = resolve(module, path, &modules, &sources, MAX_REEXPORT_HOPS)
                    && &target != module
                {
                    targets.insert(target);
                }
            }
            graph.edges.insert(module.clone(), targets);
        }
        Ok(graph)
    }

    /// A cycle, as the modules along it (first = last), if there is one.
    pub fn cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        fn visit(
            graph: &ModuleGraph,
            node: &str,
            marks: &mut BTreeMap<String, Mark>,
            stack: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            match marks.get(node) {
                Some(Mark::Done) => return None,
                Some(Mark::Open) => {
                    let start = stack.iter().position(|n| n == node).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(node.to_owned());
                    return Some(cycle);
                }
                None => {}
            }
            marks.insert(node.to_owned(), Mark::Open);
            stack.push(node.to_owned());
            for next in graph.edges.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(graph, next, marks, stack) {
                    return Some(cycle);
                }
            }
            stack.pop();
            marks.insert(node.to_owned(), Mark::Done);
            None
        }
        let mut marks = BTreeMap::new();
        for node in self.edges.keys() {
            if let Some(cycle) = visit(self, node, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
        None
    }

    /// The modules in layers: each module's imports lie in earlier layers. `None` when
    /// there is a cycle.
    pub fn layers(&self) -> Option<Vec<Vec<String>>> {
        let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
        let mut layers: Vec<Vec<String>> = Vec::new();
        while placed.len() < self.edges.len() {
            let layer: Vec<String> = self
                .edges
                .iter()
                .filter(|(node, _)| !placed.contains_key(node.as_str()))
                .filter(|(_, targets)| targets.iter().all(|t| placed.contains_key(t.as_str())))
                .map(|(node, _)| node.clone())
                .collect();
            if layer.is_empty() {
                return None;
            }
            for node in &layer {
                placed.insert(
                    self.edges.get_key_value(node).map(|(k, _)| k.as_str())?,
                    layers.len(),
                );
            }
            layers.push(layer);
        }
        Some(layers)
    }
}

fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}::{name}")
    }
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

/// Reads `file` as module `module` and the files of its `mod x;` children.
fn collect(
    file: &Path,
    module: String,
    owns_dir: bool,
    sources: &mut BTreeMap<String, ModuleSource>,
) -> Result<(), ReadError> {
    let error = |reason: String| ReadError {
        path: file.to_owned(),
        reason,
    };
    let text = fs::read_to_string(file).map_err(|e| error(e.to_string()))?;
    let ast = syn::parse_file(&text).map_err(|e| error(e.to_string()))?;
    let dir = if owns_dir {
        file.parent().map(Path::to_owned).unwrap_or_default()
    } else {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        file.parent().map(|p| p.join(stem)).unwrap_or_default()
    };
    collect_items(&ast.items, module, &dir, sources)
}

/// Reads the items of `module`, whose `mod x;` files live in `dir`; an inline
/// `mod x { ... }` is a module of its own.
fn collect_items(
    items: &[syn::Item],
    module: String,
    dir: &Path,
    sources: &mut BTreeMap<String, ModuleSource>,
) -> Result<(), ReadError> {
    let mut collector = PathCollector::default();
    for item in items {
        collector.visit_item(item);
    }
    for item in items {
        let syn::Item::Mod(item_mod) = item else {
            continue;
        };
        let name = item_mod.ident.to_string();
        if is_cfg_test(&item_mod.attrs) {
            continue; // unit tests are not part of the crate's design
        }
        if let Some((_, inline)) = &item_mod.content {
            collect_items(inline, child(&module, &name), &dir.join(&name), sources)?;
            continue;
        }
        let explicit = item_mod.attrs.iter().find_map(|attr| {
            let syn::Meta::NameValue(nv) = &attr.meta else {
                return None;
            };
            if !nv.path.is_ident("path") {
                return None;
            }
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            else {
                return None;
            };
            Some(dir.join(s.value()))
        });
        let (child_file, child_owns_dir) = match explicit {
            Some(path) => (path, false),
            None if dir.join(format!("{name}.rs")).is_file() => {
                (dir.join(format!("{name}.rs")), false)
            }
            None => (dir.join(&name).join("mod.rs"), true),
        };
        collect(&child_file, child(&module, &name), child_owns_dir, sources)?;
    }
    sources.insert(
        module,
        ModuleSource {
            paths: collector.paths,
            imports: collector.imports,
        },
    );
    Ok(())
}

/// `#[cfg(test)]`.
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// How many `use` re-exports a path is followed through (real code needs one or two; the
/// bound only stops import loops, which rustc rejects anyway).
const MAX_REEXPORT_HOPS: u8 = 8;

/// Resolves a path named in `module` to the module it reaches, if it reaches one of the
/// crate's modules at all (paths into other crates and the prelude do not).
fn resolve(
    module: &str,
    path: &[String],
    modules: &BTreeSet<String>,
    sources: &BTreeMap<String, ModuleSource>,
    hops: u8,
) -> Option<String> {
    let (mut base, rest) = match path.first().map(String::as_str) {
        Some("crate") => (String::new(), &path[1..]),
        Some("self") => (module.to_owned(), &path[1..]),
        Some("super") => {
            let mut base = parent(module);
            let mut rest = &path[1..];
            while rest.first().map(String::as_str) == Some("super") {
                base = parent(&base);
                rest = &rest[1..];
            }
            (base, rest)
        }
        Some(first) if modules.contains(&child(module, first)) => (module.to_owned(), path),
        _ => return None,
    };
    for segment in rest {
        let next = child(&base, segment);
        if modules.contains(&next) {
            base = next;
            continue;
        }
        // Not a module: an item of `base`, or a name `base` imports from elsewhere: from
        // another module of the crate (that module is the target) or from another crate
        // (no edge at all).
        if let Some(imported) = sources.get(&base).and_then(|s| s.imports.get(segment))
            && hops > 0
            && imported.first().map(String::as_str) != Some(segment.as_str())
        {
            return resolve(&base, imported, modules, sources, hops - 1);
        }
        break;
    }
    Some(base)
}

/// Collects every path a file names outside macro invocations, and its `use` imports.
#[derive(Default)]
struct PathCollector {
    paths: Vec<Vec<String>>,
    imports: BTreeMap<String, Vec<String>>,
}

impl PathCollector {
    fn record(&mut self, path: Vec<String>) {
        self.paths.push(path);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                let mut full = prefix.clone();
                if name != "self" {
                    full.push(name.clone());
                }
                let local = if name == "self" {
                    prefix.last().cloned().unwrap_or_default()
                } else {
                    name
                };
                self.imports.insert(local, full.clone());
                self.record(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.imports.insert(r.rename.to_string(), full.clone());
                self.record(full);
            }
            syn::UseTree::Glob(_) => self.record(prefix.clone()),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.record(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(crate)` and `pub(super)` name where an item is visible, not what it uses.
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // Inline modules are collected as modules of their own.
    }
}
