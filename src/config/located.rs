//! Deserializes a TOML document into typed configuration while collecting *every* problem with its
//! location. Serde stops at the first error; an admin fixing a file wants all of them at once.
//!
//! How: a serde `Deserializer` over toml's spanned document tree that (1) skips and records unknown keys
//! instead of failing, and (2) on a wrong-typed or missing value records the problem and runs again with
//! a neutral placeholder at that path, until the document deserializes. Values built from placeholders
//! are never used: the caller gets the placeholder paths and drops the result if there are problems.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use toml::de::{DeTable, DeValue};

/// One problem in a document: where (byte span), which key (dotted path), what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Range<usize>,
    pub path: String,
    pub message: String,
}

/// The outcome of [`parse`]: a value only when the document had no problem at all.
#[derive(Debug)]
pub struct Parsed<T> {
    pub value: Option<T>,
    pub problems: Vec<Problem>,
}

/// Enough reruns for any realistic file; each rerun fixes one fatal problem.
const MAX_PASSES: usize = 100;

/// Parses `text` as TOML and deserializes it into `T`, reporting syntax errors, unknown keys, wrong
/// types and missing keys, each with its span.
pub fn parse<T: DeserializeOwned>(text: &str) -> Parsed<T> {
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        let problems = syntax_errors
            .iter()
            .map(|e| Problem {
                span: e.span().unwrap_or(0..0),
                path: String::new(),
                message: format!("TOML syntax: {}", e.message().trim_end()),
            })
            .collect();
        return Parsed {
            value: None,
            problems,
        };
    }
    let root_span = root.span();
    let root = DeValue::Table(root.into_inner());
    let mut placeholders = BTreeSet::new();
    let mut problems: Vec<Problem> = Vec::new();
    for _ in 0..MAX_PASSES {
        let ctx = Ctx {
            placeholders: &placeholders,
            problems: RefCell::new(Vec::new()),
        };
        let result = T::deserialize(ValueDe {
            value: &root,
            span: root_span.start..root_span.start,
            path: String::new(),
            ctx: &ctx,
        });
        for problem in ctx.problems.into_inner() {
            push_unique(&mut problems, problem);
        }
        match result {
            Ok(value) if problems.is_empty() => {
                return Parsed {
                    value: Some(value),
                    problems,
                };
            }
            Ok(_) => {
                return Parsed {
                    value: None,
                    problems,
                };
            }
            Err(error) => {
                let path = error.path.clone().unwrap_or_default();
                if !error.silent {
                    push_unique(&mut problems, explain(error.into_problem()));
                }
                if !placeholders.insert(path) {
                    return Parsed {
                        value: None,
                        problems,
                    };
                }
            }
        }
    }
    Parsed {
        value: None,
        problems,
    }
}

/// Puts serde's wording into an admin's: which key, and what to write instead.
fn explain(mut problem: Problem) -> Problem {
    if problem.message.starts_with("missing required key") || problem.path.is_empty() {
        return problem;
    }
    let mut message = problem.message.clone();
    for (serde_word, plain) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        (
            "expected a sequence",
            "expected a list such as [\"a\", \"b\"]",
        ),
        ("expected a map", "expected a table"),
        ("expected a boolean", "expected true or false"),
    ] {
        message = message.replace(serde_word, plain);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        message = format!("wrong type: {rest}");
    }
    let quoted_number = message
        .strip_prefix("wrong type: string \"")
        .and_then(|rest| rest.split('"').next())
        .is_some_and(|value| value.parse::<f64>().is_ok());
    if quoted_number {
        message.push_str(" (write it without quotes)");
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        message = format!("unknown value {rest}");
    }
    problem.message = format!("`{}`: {message}", problem.path);
    problem
}

fn push_unique(problems: &mut Vec<Problem>, problem: Problem) {
    if !problems.contains(&problem) {
        problems.push(problem);
    }
}

struct Ctx<'p> {
    placeholders: &'p BTreeSet<String>,
    problems: RefCell<Vec<Problem>>,
}

/// A deserialization error; located once it passes through the value it concerns.
#[derive(Debug)]
pub struct Error {
    message: String,
    span: Option<Range<usize>>,
    path: Option<String>,
    missing: Option<&'static str>,
    /// Raised by a placeholder: already reported, only stop.
    silent: bool,
}

impl Error {
    fn locate(mut self, span: &Range<usize>, path: &str) -> Error {
        if self.span.is_none() {
            self.span = Some(span.clone());
            self.path = Some(path.to_owned());
        }
        self
    }

    fn into_problem(self) -> Problem {
        Problem {
            span: self.span.unwrap_or(0..0),
            path: self.path.unwrap_or_default(),
            message: self.message,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: None,
            path: None,
            missing: None,
            silent: false,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Error {
            message: format!("missing field `{field}`"),
            span: None,
            path: None,
            missing: Some(field),
            silent: false,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn section_name(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        format!("[{path}]")
    }
}

/// Deserializes one spanned TOML value.
struct ValueDe<'a, 'c> {
    value: &'a DeValue<'a>,
    span: Range<usize>,
    path: String,
    ctx: &'c Ctx<'c>,
}

impl<'de, 'a, 'c> de::Deserializer<'de> for ValueDe<'a, 'c> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            DeValue::String(s) => visitor.visit_str(s),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => visitor.visit_i64(n),
                Err(_) => match u64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => visitor.visit_u64(n),
                    Err(_) => Err(de::Error::custom("integer out of range")),
                },
            },
            DeValue::Float(f) => match parse_float(f.as_str()) {
                Some(x) => visitor.visit_f64(x),
                None => Err(de::Error::custom("invalid float")),
            },
            DeValue::Boolean(b) => visitor.visit_bool(*b),
            DeValue::Datetime(d) => visitor.visit_string(d.to_string()),
            DeValue::Array(items) => visitor.visit_seq(ArrayAccess {
                items: items.iter(),
                index: 0,
                path: &self.path,
                ctx: self.ctx,
            }),
            DeValue::Table(table) => {
                visitor.visit_map(TableAccess::new(table, None, &self.path, self.ctx))
            }
        };
        result.map_err(|e| e.locate(&self.span, &self.path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let DeValue::Table(table) = self.value else {
            return self.deserialize_any(visitor);
        };
        visitor
            .visit_map(TableAccess::new(table, Some(fields), &self.path, self.ctx))
            .map_err(|mut e| {
                if let (Some(field), None) = (e.missing, &e.span) {
                    e.message = format!(
                        "missing required key `{field}` in {}: add `{field} = …`",
                        section_name(&self.path)
                    );
                    e.span = Some(self.span.clone());
                    e.path = Some(join(&self.path, field));
                }
                e.locate(&self.span, &self.path)
            })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            DeValue::String(s) => visitor
                .visit_enum(IntoDeserializer::<Error>::into_deserializer(s.as_ref()))
                .map_err(|e| e.locate(&self.span, &self.path)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        other => other.replace('_', "").parse().ok(),
    }
}

struct ArrayAccess<'a, 'c, 'p> {
    items: std::slice::Iter<'a, toml::Spanned<DeValue<'a>>>,
    index: usize,
    path: &'p str,
    ctx: &'c Ctx<'c>,
}

impl<'de> de::SeqAccess<'de> for ArrayAccess<'_, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        if self.ctx.placeholders.contains(&path) {
            return seed.deserialize(Placeholder).map(Some);
        }
        seed.deserialize(ValueDe {
            value: item.get_ref(),
            span: item.span(),
            path,
            ctx: self.ctx,
        })
        .map(Some)
    }
}

/// Entries of a table, then any placeholder entries for keys that were reported missing.
struct TableAccess<'a, 'c, 'p> {
    entries: Vec<(
        &'a toml::Spanned<toml::de::DeString<'a>>,
        Option<&'a toml::Spanned<DeValue<'a>>>,
    )>,
    next: usize,
    current: Option<usize>,
    path: &'p str,
    ctx: &'c Ctx<'c>,
}

impl<'a, 'c, 'p> TableAccess<'a, 'c, 'p> {
    fn new(
        table: &'a DeTable<'a>,
        fields: Option<&'static [&'static str]>,
        path: &'p str,
        ctx: &'c Ctx<'c>,
    ) -> Self {
        let mut entries = Vec::new();
        for (key, value) in table.iter() {
            if let Some(fields) = fields
                && !fields.contains(&key.get_ref().as_ref())
            {
                ctx.problems.borrow_mut().push(unknown_key(
                    key.get_ref(),
                    key.span(),
                    path,
                    fields,
                ));
                continue;
            }
            entries.push((key, Some(value)));
        }
        TableAccess {
            entries,
            next: 0,
            current: None,
            path,
            ctx,
        }
    }
}

fn unknown_key(key: &str, span: Range<usize>, path: &str, fields: &[&str]) -> Problem {
    let suggestion = fields
        .iter()
        .map(|f| (edit_distance(key, f), *f))
        .filter(|(d, _)| *d <= 2.max(key.len() / 3))
        .min()
        .map(|(_, f)| format!("did you mean `{f}`? "))
        .unwrap_or_default();
    let expected = fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Problem {
        span,
        path: join(path, key),
        message: format!(
            "unknown key `{key}` in {}: {suggestion}remove it or use one of: {expected}",
            section_name(path)
        ),
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (prev + cost).min(row[j + 1] + 1).min(row[j] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl<'de> de::MapAccess<'de> for TableAccess<'_, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.next == self.entries.len() {
            self.add_missing_placeholders();
        }
        let Some((key, _)) = self.entries.get(self.next) else {
            return Ok(None);
        };
        self.current = Some(self.next);
        self.next += 1;
        let name: &str = key.get_ref();
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((key, value)) = self.current.and_then(|i| self.entries.get(i)) else {
            return Err(de::Error::custom("value requested before key"));
        };
        let path = join(self.path, key.get_ref());
        match value {
            Some(value) if !self.ctx.placeholders.contains(&path) => seed.deserialize(ValueDe {
                value: value.get_ref(),
                span: value.span(),
                path,
                ctx: self.ctx,
            }),
            _ => seed.deserialize(Placeholder),
        }
    }
}

impl TableAccess<'_, '_, '_> {
    /// Keys reported missing in an earlier pass get a placeholder so this pass gets further.
    fn add_missing_placeholders(&mut self) {
        let prefix = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}.", self.path)
        };
        let present: Vec<String> = self
            .entries
            .iter()
            .map(|(k, _)| k.get_ref().to_string())
            .collect();
        let missing: Vec<String> = self
            .ctx
            .placeholders
            .iter()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|rest| !rest.contains(['.', '[']) && !rest.is_empty())
            .filter(|rest| !present.iter().any(|k| k == rest))
            .map(str::to_owned)
            .collect();
        for name in missing {
            self.entries.push((leak_key(name), None));
        }
    }
}

/// Placeholder keys must outlive the access; they are few (one per missing key per pass) and live only
/// for a config check, so they are kept in a thread-local arena rather than threading an allocator through.
fn leak_key(name: String) -> &'static toml::Spanned<toml::de::DeString<'static>> {
    thread_local! {
        static ARENA: RefCell<Vec<&'static toml::Spanned<toml::de::DeString<'static>>>> =
            const { RefCell::new(Vec::new()) };
    }
    ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        if let Some(found) = arena.iter().find(|k| k.get_ref().as_ref() == name) {
            return *found;
        }
        let key: &'static _ = Box::leak(Box::new(toml::Spanned::new(0..0, name.into())));
        arena.push(key);
        key
    })
}

/// A neutral value of whatever type is asked for; stands in for a value already reported as wrong.
struct Placeholder;

impl<'de> de::Deserializer<'de> for Placeholder {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit().map_err(silence)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(false).map_err(silence)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i64(0).map_err(silence)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u64(0).map_err(silence)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(0.0).map_err(silence)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str("").map_err(silence)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_none().map_err(silence)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor
            .visit_seq(de::value::SeqDeserializer::new(std::iter::empty::<()>()))
            .map_err(silence)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor
            .visit_map(de::value::MapDeserializer::new(
                std::iter::empty::<((), ())>(),
            ))
            .map_err(silence)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let entries = fields.iter().map(|f| (*f, PlaceholderValue));
        visitor
            .visit_map(de::value::MapDeserializer::new(entries))
            .map_err(silence)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let first = variants.first().copied().unwrap_or_default();
        visitor
            .visit_enum(IntoDeserializer::<Error>::into_deserializer(first))
            .map_err(silence)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self).map_err(silence)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit().map_err(silence)
    }

    placeholder_forward! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i128 => deserialize_i64 }
    placeholder_forward! { deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u128 => deserialize_u64 }
    placeholder_forward! { deserialize_f32 => deserialize_f64 }
    placeholder_forward! { deserialize_char deserialize_string deserialize_identifier => deserialize_str }
    placeholder_forward! { deserialize_bytes deserialize_byte_buf => deserialize_seq }

    serde::forward_to_deserialize_any! {
        unit_struct tuple tuple_struct ignored_any
    }
}

/// Placeholder methods that answer like another method (every integer width gets a zero, and so on).
macro_rules! placeholder_forward {
    ($($method:ident)* => $target:ident) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.$target(visitor)
        })*
    };
}
use placeholder_forward;

fn silence(mut e: Error) -> Error {
    e.silent = true;
    e
}

#[derive(Clone, Copy)]
struct PlaceholderValue;

impl<'de> IntoDeserializer<'de, Error> for PlaceholderValue {
    type Deserializer = Placeholder;
    fn into_deserializer(self) -> Placeholder {
        Placeholder
    }
}

#[cfg(test)]
mod tests;
