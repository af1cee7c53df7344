//! Which files `-f DIR` reads: `.yaml` and `.yml` files in any case, in name order,
//! subdirectories included. Each directory is entered once by its canonical path, so a
//! symlink loop (`a/b -> ..`) ends instead of recursing until memory runs out.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::ManifestError;

/// The files to read for `path`; `notes` gets a line per directory skipped as a loop.
pub fn expand(path: &Path, notes: &mut Vec<String>) -> Result<Vec<PathBuf>, ManifestError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ManifestError::NotFound {
            path: path.display().to_string(),
        },
        other => ManifestError::Unreadable {
            path: path.display().to_string(),
            detail: other.to_string(),
        },
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    collect(path, &mut seen, &mut files, notes)?;
    if files.is_empty() {
        return Err(ManifestError::EmptyDirectory {
            path: path.display().to_string(),
        });
    }
    Ok(files)
}

pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn collect(
    dir: &Path,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<(), ManifestError> {
    let unreadable = |e: std::io::Error| ManifestError::Unreadable {
        path: dir.display().to_string(),
        detail: e.kind().to_string(),
    };
    let canonical = std::fs::canonicalize(dir).map_err(unreadable)?;
    if !seen.insert(canonical.clone()) {
        notes.push(format!(
            "{}: skipped: the same directory as {} (a symlink loop or a second link)",
            dir.display(),
            canonical.display()
        ));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, seen, out, notes)?;
        } else if is_yaml(&p) {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_in_any_case() {
        for yes in ["a.yaml", "a.YAML", "a.yml", "a.Yml"] {
            assert!(is_yaml(Path::new(yes)), "{yes}");
        }
        for no in ["a.json", "yaml", "a.yaml.bak"] {
            assert!(!is_yaml(Path::new(no)), "{no}");
        }
    }
}
