//! The crate's one error type and the per-field problems it collects.

use std::fmt;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more catalog files are invalid. Loading collects every problem
    /// instead of stopping at the first, so an editor can fix them in one pass.
    #[error("{}", display_all(.0))]
    Invalid(Vec<FieldError>),

    /// A template needs a tenant value that was not supplied.
    #[error("missing value for {{{variable}}}")]
    MissingValue { variable: String },

    /// A tenant value does not match its variable's validation rule.
    #[error("value {value:?} for {{{variable}}} does not match {pattern}")]
    InvalidValue {
        variable: String,
        value: String,
        pattern: String,
    },

    /// A template rendered with valid values still produced something unusable.
    /// Values are validated first, so this means the template itself is wrong.
    #[error("{field} rendered to {rendered:?}: {problem}")]
    Rendered {
        field: String,
        rendered: String,
        problem: Problem,
    },

    /// A search `after` cursor names no entry of the current catalog snapshot,
    /// for example because the catalog was reloaded between two pages.
    #[error("unknown cursor {after:?}")]
    UnknownCursor { after: String },

    /// A search page size outside `1..=MAX_LIMIT`.
    #[error("limit {limit} is outside 1..={max}")]
    InvalidLimit { limit: usize, max: usize },
}

fn display_all(errors: &[FieldError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// One problem in one field of one catalog file.
///
/// Displays as `catalog-data/apps/slack.toml: saml.acs_url: unknown variable {tenant}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The file name as given to the loader.
    pub file: String,
    /// A dotted path to the field, with list indexes: `saml.acs_url_alternatives[1]`.
    /// `(file)` for problems with the file as a whole.
    pub field: String,
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.problem)
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file is not valid TOML.
    #[error("TOML syntax error: {0}")]
    Syntax(String),
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// A field holds the wrong TOML type.
    #[error("expected {0}")]
    WrongType(&'static str),
    /// A field the format does not define (often a misspelling).
    #[error("unknown field")]
    UnknownField,
    /// A string outside a fixed vocabulary.
    #[error("unknown value {value:?}, expected one of {expected}")]
    UnknownValue { value: String, expected: String },
    /// A value listed twice where values must be unique.
    #[error("duplicate value {0:?}")]
    Duplicate(String),
    /// A string that is empty or only whitespace where text is required.
    #[error("must not be empty")]
    Empty,
    /// A string that does not have the required shape.
    #[error("{0}")]
    Malformed(String),
    /// The entry name differs from the file name.
    #[error("{name:?} does not match the file name {expected:?}")]
    NameMismatch { name: String, expected: String },
    /// Two files define the same entry name.
    #[error("entry {name:?} is also defined in {other_file}")]
    DuplicateEntry { name: String, other_file: String },
    /// A template refers to a variable the entry does not declare.
    #[error("unknown variable {{{0}}}")]
    UnknownVariable(String),
    /// A declared variable that no template uses.
    #[error("variable {0:?} is not used by any template")]
    UnusedVariable(String),
    /// A template with unbalanced braces or a bad variable name.
    #[error("invalid template: {0}")]
    InvalidTemplate(String),
    /// A validation pattern that does not compile.
    #[error("invalid pattern: {0}")]
    InvalidPattern(String),
    /// A sample value that its own variable rejects.
    #[error("sample {sample:?} does not match the pattern")]
    SampleMismatch { sample: String },
    /// A variable value with characters that could change a URL's structure.
    #[error("{0:?} may only contain letters, digits and . _ ~ : -")]
    UnsafeValue(String),
    /// A rendered URL template that is not an absolute URL.
    #[error("not an absolute URL ({0})")]
    NotAUrl(String),
    /// A rendered URL that a browser or the gateway would use over plain HTTP.
    #[error("must use https")]
    InsecureScheme,
    /// A protocol section whose functionality is not listed.
    #[error("section requires {0:?} in functionality")]
    SectionWithoutFunctionality(&'static str),
    /// A functionality that needs a section the entry lacks.
    #[error("functionality {0:?} requires a [{1}] section")]
    FunctionalityWithoutSection(&'static str, &'static str),
}
