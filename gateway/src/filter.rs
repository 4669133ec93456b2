//! Okta's `filter` and `search` expressions, e.g.
//! `status eq "ACTIVE" and (profile.lastName sw "Sm" or profile.department eq "Sales")`.
//!
//! An expression is parsed into an [`Expr`] and compiled to a SQL condition
//! with bound parameters. Each endpoint supplies a [`FieldMap`] naming the
//! attributes it allows and the SQL each one reads, so an unknown attribute
//! is a 400 that names it, never an injection.

use std::fmt::Write;

use crate::store::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Sw,
    Co,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare { attr: String, op: Op, value: String },
    Present(String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

const MAX_LENGTH: usize = 4096;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    if input.len() > MAX_LENGTH {
        return Err(FilterError(format!("expression is longer than {MAX_LENGTH} characters")));
    }
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err(FilterError("unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => text.push(escaped),
                            None => return Err(FilterError("unterminated string".into())),
                        },
                        Some(other) => text.push(other),
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_alphanumeric() || "._-:+$".contains(c) => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || "._-:+$".contains(c) {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(FilterError(format!("unexpected character `{other}`"))),
        }
    }
    Ok(tokens)
}

/// Parses an expression.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(FilterError("unexpected text after the end of the expression".into()));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError("expression is nested too deeply".into()));
        }
        let result = if self.peek_keyword("not") {
            self.pos += 1;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.tokens.get(self.pos) == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            if self.tokens.get(self.pos) != Some(&Token::Close) {
                return Err(FilterError("missing `)`".into()));
            }
            self.pos += 1;
            Ok(inner)
        } else {
            self.comparison()
        };
        self.depth -= 1;
        result
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let attr = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => w.clone(),
            _ => return Err(FilterError("expected an attribute name".into())),
        };
        self.pos += 1;
        let op = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            _ => return Err(FilterError(format!("expected an operator after `{attr}`"))),
        };
        self.pos += 1;
        let op = match op.as_str() {
            "pr" => return Ok(Expr::Present(attr)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "sw" => Op::Sw,
            "co" => Op::Co,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(FilterError(format!("unknown operator `{other}`"))),
        };
        let value = match self.tokens.get(self.pos) {
            Some(Token::Text(t)) => t.clone(),
            Some(Token::Word(w)) if !w.eq_ignore_ascii_case("and") && !w.eq_ignore_ascii_case("or") => w.clone(),
            _ => return Err(FilterError(format!("expected a value after `{attr}`"))),
        };
        self.pos += 1;
        Ok(Expr::Compare { attr, op, value })
    }
}

/// How an attribute is stored.
#[derive(Debug, Clone)]
pub enum Column {
    /// A text column compared without regard to case (the column holds lowercase text).
    LowerText(String),
    /// A text column compared exactly (ids, enumerations).
    Exact(String),
    /// A timestamp column in our fixed-width UTC format.
    Timestamp(String),
    /// A string inside a JSON text column.
    JsonText { column: String, key: String },
    /// A `|`-delimited list of ids in a text column; only `eq` is allowed.
    IdList(String),
}

/// Maps an attribute name to the column it reads, or `None` if it may not be filtered on.
pub trait FieldMap {
    fn column(&self, attr: &str) -> Option<Column>;
}

/// A compiled condition: SQL text with `$n` placeholders and the values to bind.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<String>,
}

impl Sql {
    pub fn bind(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

/// Compiles `expr` into `sql`, appending to its text and binds.
pub fn compile(expr: &Expr, fields: &dyn FieldMap, backend: Backend, sql: &mut Sql) -> Result<(), FilterError> {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            let joiner = if matches!(expr, Expr::And(..)) { " AND " } else { " OR " };
            sql.text.push('(');
            compile(a, fields, backend, sql)?;
            sql.text.push_str(joiner);
            compile(b, fields, backend, sql)?;
            sql.text.push(')');
        }
        Expr::Not(inner) => {
            sql.text.push_str("(NOT ");
            compile(inner, fields, backend, sql)?;
            sql.text.push(')');
        }
        Expr::Present(attr) => {
            let column = lookup(fields, attr)?;
            let (expr, _) = column_sql(&column, backend);
            let _ = write!(sql.text, "({expr} IS NOT NULL AND {expr} <> '')");
        }
        Expr::Compare { attr, op, value } => {
            let column = lookup(fields, attr)?;
            if let Column::IdList(col) = &column {
                if *op != Op::Eq {
                    return Err(FilterError(format!("`{attr}` supports only eq")));
                }
                let p = sql.bind(format!("%|{}|%", escape_like(value)));
                let _ = write!(sql.text, "{col} LIKE {p} ESCAPE '\\'");
                return Ok(());
            }
            let (expr, lowered) = column_sql(&column, backend);
            let value = match &column {
                Column::Timestamp(_) => normalise_timestamp(value)
                    .ok_or_else(|| FilterError(format!("`{value}` is not a timestamp like 2026-01-31T00:00:00.000Z")))?,
                _ if lowered => value.to_lowercase(),
                _ => value.clone(),
            };
            let (sql_op, pattern) = match op {
                Op::Eq => ("=", None),
                Op::Ne => ("<>", None),
                Op::Gt => (">", None),
                Op::Ge => (">=", None),
                Op::Lt => ("<", None),
                Op::Le => ("<=", None),
                Op::Sw => ("LIKE", Some(format!("{}%", escape_like(&value)))),
                Op::Co => ("LIKE", Some(format!("%{}%", escape_like(&value)))),
                Op::Ew => ("LIKE", Some(format!("%{}", escape_like(&value)))),
            };
            match pattern {
                Some(pattern) => {
                    let p = sql.bind(pattern);
                    let _ = write!(sql.text, "{expr} LIKE {p} ESCAPE '\\'");
                }
                None => {
                    let p = sql.bind(value);
                    let _ = write!(sql.text, "{expr} {sql_op} {p}");
                }
            }
        }
    }
    Ok(())
}

fn lookup(fields: &dyn FieldMap, attr: &str) -> Result<Column, FilterError> {
    fields.column(attr).ok_or_else(|| FilterError(format!("`{attr}` cannot be used in this expression")))
}

/// The SQL reading a column, and whether it yields lowercase text.
fn column_sql(column: &Column, backend: Backend) -> (String, bool) {
    match column {
        Column::LowerText(c) => (c.clone(), true),
        Column::Exact(c) | Column::Timestamp(c) | Column::IdList(c) => (c.clone(), false),
        Column::JsonText { column, key } => {
            debug_assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            let read = match backend {
                Backend::Sqlite => format!("json_extract({column}, '$.\"{key}\"')"),
                Backend::Postgres => format!("(({column})::jsonb ->> '{key}')"),
            };
            (format!("lower(CAST({read} AS TEXT))"), true)
        }
    }
}

/// Whether `key` may name a profile attribute inside SQL text.
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn escape_like(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn normalise_timestamp(value: &str) -> Option<String> {
    let parsed = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
    Some(crate::store::ts(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fields;
    impl FieldMap for Fields {
        fn column(&self, attr: &str) -> Option<Column> {
            match attr {
                "status" => Some(Column::Exact("status".into())),
                "lastUpdated" => Some(Column::Timestamp("last_updated".into())),
                "profile.lastName" => Some(Column::LowerText("last_name_lower".into())),
                a => a.strip_prefix("profile.").filter(|k| is_safe_key(k)).map(|k| Column::JsonText {
                    column: "profile".into(),
                    key: k.into(),
                }),
            }
        }
    }

    fn compiled(input: &str, backend: Backend) -> Result<(String, Vec<String>), FilterError> {
        let mut sql = Sql::default();
        compile(&parse(input)?, &Fields, backend, &mut sql)?;
        Ok((sql.text, sql.binds))
    }

    #[test]
    fn expressions_compile_to_bound_sql() {
        let (text, binds) =
            compiled(r#"status eq "ACTIVE" and (profile.lastName sw "Sm_" or not profile.dept pr)"#, Backend::Sqlite)
                .unwrap();
        assert_eq!(
            text,
            "(status = $1 AND (last_name_lower LIKE $2 ESCAPE '\\' OR (NOT (lower(CAST(json_extract(profile, '$.\"dept\"') AS TEXT)) IS NOT NULL AND lower(CAST(json_extract(profile, '$.\"dept\"') AS TEXT)) <> ''))))"
        );
        assert_eq!(binds, vec!["ACTIVE".to_owned(), "sm\\_%".to_owned()]);
        let (text, binds) = compiled(r#"lastUpdated gt "2026-01-01T00:00:00Z""#, Backend::Postgres).unwrap();
        assert_eq!(text, "last_updated > $1");
        assert_eq!(binds, vec!["2026-01-01T00:00:00.000Z".to_owned()]);
        let (text, _) = compiled(r#"profile.dept eq "x""#, Backend::Postgres).unwrap();
        assert!(text.contains("::jsonb ->> 'dept'"), "{text}");
    }

    #[test]
    fn bad_expressions_are_named() {
        let cases = [
            ("status eq", "expected a value"),
            ("status equals \"x\"", "unknown operator `equals`"),
            ("password eq \"x\"", "`password` cannot be used"),
            ("profile.a;drop eq \"x\"", "unexpected character `;`"),
            ("(status eq \"x\"", "missing `)`"),
            ("status eq \"x", "unterminated string"),
            ("lastUpdated gt \"yesterday\"", "not a timestamp"),
            ("status eq \"x\" status", "unexpected text"),
        ];
        for (input, expected) in cases {
            let err = compiled(input, Backend::Sqlite).unwrap_err();
            assert!(err.0.contains(expected), "{input}: {err}");
        }
        let deep = format!("{}status eq \"x\"{}", "(".repeat(40), ")".repeat(40));
        assert!(compiled(&deep, Backend::Sqlite).unwrap_err().0.contains("nested"));
    }
}
