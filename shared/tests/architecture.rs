//! The rules of ARCHITECTURE.md that a compiler does not check, checked on the sources:
//!
//! - the crate's modules form no import cycle (a module's code, not its comments or its unit
//!   tests, names only modules below it);
//! - the modules that say they depend on nothing else of the crate do not;
//! - no source file of the workspace is longer than [`MAX_LINES`] (unit tests live in their
//!   own `tests.rs` and `properties.rs` files; integration tests in `tests/` directories).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be: a file longer than this holds more than one job.
const MAX_LINES: usize = 500;

/// Modules that hold the crate's plain vocabulary and must stay leaves.
const LEAVES: [&str; 5] = ["devices", "iam_state", "message", "recipient", "tag_keys"];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Unit tests (`tests.rs`, `properties.rs`, anything under a `tests` directory), by the path
/// relative to the crate or the workspace.
fn is_test(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
        || path
            .file_name()
            .is_some_and(|f| f == "tests.rs" || f == "properties.rs")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`engine/apply.rs` -> `engine`); `None` for lib.rs.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_string())
}

/// The file's code: comments and `#[cfg(test)]` modules removed.
fn code(text: &str) -> String {
    let without_tests = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    without_tests
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names (`crate::x`, `crate::{x, y::z}`).
fn modules_named(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Only the first segment of each item of the group is a module of the crate.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        named.insert(word(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            named.insert(word(rest));
        }
    }
    named.retain(|m| !m.is_empty() && m.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    named
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(&src()) {
        let Some(module) = module_of(&path) else {
            continue;
        };
        if is_test(path.strip_prefix(src()).unwrap()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let entry = graph.entry(module.clone()).or_default();
        for named in modules_named(&code(&text)) {
            if named != module {
                entry.insert(named);
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one (depth-first search).
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    for next in graph.get(path.last().unwrap()).into_iter().flatten() {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(start.to_string());
            return Some(cycle);
        }
        if !path.contains(next) {
            path.push(next.clone());
            if let Some(cycle) = cycle_from(graph, start, path) {
                return Some(cycle);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn the_crate_has_no_import_cycle() {
    let graph = graph();
    assert!(graph.len() > 10, "{graph:?}");
    for module in graph.keys() {
        let cycle = cycle_from(&graph, module, &mut vec![module.clone()]);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}

#[test]
fn leaves_depend_on_nothing_else_of_the_crate() {
    let graph = graph();
    for leaf in LEAVES {
        let named = graph.get(leaf).expect(leaf);
        assert!(named.is_empty(), "{leaf} names {named:?}");
    }
}

/// The decision core (ARCHITECTURE.md, "A pure core"): values in, values out.
const PURE: [&str; 14] = [
    "evaluate",
    "plan",
    "notices",
    "guidance",
    "event",
    "policy",
    "policy_grammar",
    "roles",
    "phishing",
    "scp",
    "export",
    "notify",
    "report",
    "snapshot",
];

/// What a pure module must never name: an SDK, the environment, the clock, a runtime, a port.
const IMPURE: [&str; 7] = [
    "aws_sdk",
    "std::env",
    "Utc::now",
    "SystemTime",
    "tokio::",
    "crate::ports",
    "crate::aws",
];

#[test]
fn the_decision_core_names_no_sdk_environment_clock_or_port() {
    let mut checked = 0;
    for path in rust_files(&src()).into_iter().filter(|p| !is_test(p)) {
        let Some(module) = module_of(&path) else {
            continue;
        };
        if !PURE.contains(&module.as_str()) {
            continue;
        }
        let code = code(&std::fs::read_to_string(&path).unwrap());
        for word in IMPURE {
            assert!(!code.contains(word), "{} names {word}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= PURE.len(), "only {checked} files checked");
}

#[test]
fn no_source_file_is_longer_than_max_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![
        root.join("shared/src"),
        root.join("cli/src"),
        root.join("bench/src"),
        root.join("bench/benches"),
        root.join("bench/examples"),
    ];
    for function in std::fs::read_dir(root.join("functions")).unwrap() {
        dirs.push(function.unwrap().path().join("src"));
    }
    let mut checked = 0;
    let mut long = Vec::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let relative = |p: &PathBuf| p.strip_prefix(&root).unwrap().to_path_buf();
        for path in rust_files(dir)
            .into_iter()
            .filter(|p| !is_test(&relative(p)))
        {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count();
            checked += 1;
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", path.display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} files found");
    assert!(long.is_empty(), "longer than {MAX_LINES} lines: {long:#?}");
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    let named = modules_named(
        "use crate::a::B;\nuse crate::{b, c::{D, E}, f::G};\nlet x = crate::h::i();\nuse crate::X;",
    );
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["a", "b", "c", "f", "h"]
    );
    assert_eq!(
        code("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\n use crate::c;\n}"),
        "use crate::a;"
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("x", vec!["y"]),
        ("y", vec!["z"]),
        ("z", vec!["x"]),
        ("w", vec!["x"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        cycle_from(&graph, "x", &mut vec!["x".into()]),
        Some(vec!["x".into(), "y".into(), "z".into(), "x".into()])
    );
    assert_eq!(cycle_from(&graph, "w", &mut vec!["w".into()]), None);
}
