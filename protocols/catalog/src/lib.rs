//! Vestibule's app catalog: prebuilt integrations of SaaS apps.
//!
//! The crate does no I/O. The gateway reads `catalog-data/apps/*.toml`, hands the
//! (file name, contents) pairs to [`Catalog::from_files`], and gets back either an
//! immutable, searchable [`Catalog`] or every problem in every file, each naming
//! the file and the field. On reload the gateway builds a new `Catalog` and swaps
//! an `Arc` to it; readers never lock.
//!
//! The file format is documented in `catalog-data/README.md`.
//!
//! **Invariant:** every template of every entry in a `Catalog` refers only to
//! declared variables and renders, with the variables' sample values, to a value
//! of its shape (an absolute https URL for endpoints). Rendering with real values
//! checks each value against its variable's pattern and a fixed safe character
//! set, so a tenant value can never change which host or path a URL points to.
//!
//! **Invariant:** a `Catalog` never changes after it is built. Search keeps its
//! per-query buffers in thread-local storage, so concurrent readers share nothing
//! mutable.
//!
//! **Boundary:** no file, network or clock access, and no dependency on the
//! gateway's async runtime or HTTP stack. Deliberately absent: fetching SP
//! metadata, logos, and any notion of an app *instance* (that is the gateway's).

#![forbid(unsafe_code)]

mod entry;
mod error;
mod load;
mod search;
mod synthetic;
mod template;
mod vocab;

pub use entry::{
    AppEntry, AttributeStatement, BookmarkTemplate, OidcTemplate, RenderedSaml, SamlTemplate,
    ScimTemplate, Source, SwaTemplate, NAME_ID_FORMATS, UNSPECIFIED_NAME_ID_FORMAT,
};
pub use error::{Error, FieldError, Problem};
pub use search::{Query, SearchPage, DEFAULT_LIMIT, MAX_LIMIT};
pub use synthetic::synthetic;
pub use template::{Template, TenantValues, Variable};
pub use vocab::{Functionality, Industry, ScimOperation, UseCase};

use search::SearchIndex;

/// An immutable, validated set of entries with its search index.
#[derive(Debug)]
pub struct Catalog {
    /// Sorted by name; the search index refers to entries by position.
    entries: Vec<AppEntry>,
    index: SearchIndex,
}

impl Catalog {
    /// Validates catalog files and builds the index.
    ///
    /// `files` are (file name, contents) pairs. Each file holds one entry whose
    /// `name` must equal the file's base name without `.toml`. On failure the
    /// error lists every problem found, in file order.
    pub fn from_files<I, N, C>(files: I) -> Result<Catalog, Error>
    where
        I: IntoIterator<Item = (N, C)>,
        N: AsRef<str>,
        C: AsRef<str>,
    {
        let mut errors = Vec::new();
        let mut patterns = load::PatternCache::new();
        let mut entries: Vec<(String, AppEntry)> = Vec::new();
        for (file, contents) in files {
            let file = file.as_ref();
            if let Some(entry) =
                load::parse_entry(file, contents.as_ref(), &mut patterns, &mut errors)
            {
                entries.push((file.to_owned(), entry));
            }
        }
        entries.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        for pair in entries.windows(2) {
            if pair[0].1.name == pair[1].1.name {
                errors.push(FieldError {
                    file: pair[1].0.clone(),
                    field: "name".into(),
                    problem: Problem::DuplicateEntry {
                        name: pair[1].1.name.clone(),
                        other_file: pair[0].0.clone(),
                    },
                });
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(Catalog::from_entries(
            entries.into_iter().map(|(_, e)| e).collect(),
        ))
    }

    /// Builds the catalog from entries already validated and sorted by name.
    pub(crate) fn from_entries(entries: Vec<AppEntry>) -> Catalog {
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        let index = SearchIndex::build(&entries);
        Catalog { entries, index }
    }

    /// The entry with this name.
    pub fn get(&self, name: &str) -> Option<&AppEntry> {
        self.entries
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// All entries in name order.
    pub fn entries(&self) -> &[AppEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Searches names and descriptions, tolerating prefixes and typos.
    ///
    /// Results are ordered by relevance, then by name: a match in the name (display
    /// name or key) outranks one in the description, and exact beats prefix beats a
    /// typo (Damerau-Levenshtein distance 1 for words of 4 to 7 characters, 2 from 8).
    /// Every query word must match. An empty `text` lists entries in name order.
    pub fn search(&self, query: &Query) -> Result<SearchPage<'_>, Error> {
        search::search(&self.entries, &self.index, query)
    }
}

#[cfg(test)]
mod tests {
    /// The gateway shares one snapshot between request handlers.
    #[test]
    fn catalog_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Catalog>();
    }
}
