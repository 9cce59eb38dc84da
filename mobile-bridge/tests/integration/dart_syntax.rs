//! Every Dart file of the package and the attendee app parses (no Dart SDK here): the
//! tree-sitter Dart grammar, failing on any ERROR or MISSING node. ci.sh runs it.

use std::path::{Path, PathBuf};

fn dart_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && !matches!(name.as_str(), ".dart_tool" | "build") {
            dart_files(&path, out);
        } else if name.ends_with(".dart") {
            out.push(path);
        }
    }
}

/// The first ERROR or MISSING node, as `line:column kind`.
fn first_fault(node: tree_sitter::Node<'_>) -> Option<String> {
    if node.is_error() || node.is_missing() {
        let at = node.start_position();
        let what = if node.is_missing() {
            "MISSING"
        } else {
            "ERROR"
        };
        return Some(format!(
            "{}:{} {what} {}",
            at.row + 1,
            at.column + 1,
            node.kind()
        ));
    }
    if !node.has_error() {
        return None;
    }
    let mut cursor = node.walk();
    let children: Vec<_> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_fault)
}

#[test]
fn every_dart_file_parses() {
    let bridge = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    dart_files(&bridge.join("dart"), &mut files);
    dart_files(&bridge.join("../examples/flutter_attendee"), &mut files);
    files.sort();
    assert!(!files.is_empty());

    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_dart::LANGUAGE.into())
        .unwrap();
    let mut failed = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let tree = parser.parse(&source, None).unwrap();
        match first_fault(tree.root_node()) {
            None => println!("dart ok {}", file.display()),
            Some(fault) => {
                println!("dart FAILED {}:{fault}", file.display());
                failed.push(format!("{}:{fault}", file.display()));
            }
        }
    }
    println!(
        "dart files parsed: {}, failed: {}",
        files.len(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "Dart syntax errors:\n{}",
        failed.join("\n")
    );
}
