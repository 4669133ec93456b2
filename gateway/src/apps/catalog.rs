//! The in-memory catalog: an immutable snapshot behind an atomic pointer.
//! Readers load the current `Arc` without locking; a reload (SIGHUP or the
//! admin action) builds a whole new catalog and swaps it in, or keeps the old
//! one and reports every problem if the new files are invalid.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use catalog::Catalog;
use include_dir::{include_dir, Dir};

/// The catalog shipped inside the binary.
static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../catalog-data/apps");

pub struct CatalogHandle {
    current: ArcSwap<Catalog>,
    /// Where reloads read from; `None` means the embedded catalog.
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for CatalogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogHandle").field("entries", &self.current.load().len()).field("dir", &self.dir).finish()
    }
}

impl CatalogHandle {
    /// Loads the catalog from `dir`, or the embedded one.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let catalog = read(dir)?;
        Ok(Self { current: ArcSwap::from_pointee(catalog), dir: dir.map(Path::to_path_buf) })
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Rebuilds from the same source and swaps atomically; on error the
    /// current catalog stays. Returns the new entry count.
    pub fn reload(&self) -> Result<usize, String> {
        let catalog = read(self.dir.as_deref())?;
        let count = catalog.len();
        self.current.store(Arc::new(catalog));
        Ok(count)
    }
}

fn read(dir: Option<&Path>) -> Result<Catalog, String> {
    let files: Vec<(String, String)> = match dir {
        None => EMBEDDED
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
            .map(|f| (format!("catalog-data/apps/{}", f.path().display()), f.contents_utf8().unwrap_or("").to_owned()))
            .collect(),
        Some(dir) => {
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut files = Vec::new();
            for entry in entries {
                let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    files.push((path.display().to_string(), text));
                }
            }
            files
        }
    };
    Catalog::from_files(files).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_loads() {
        let handle = CatalogHandle::load(None).unwrap();
        assert!(handle.snapshot().len() >= 300);
        assert!(handle.snapshot().get("slack").is_some());
        assert_eq!(handle.reload().unwrap(), handle.snapshot().len());
    }
}
