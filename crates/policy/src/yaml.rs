//! A located YAML (and JSON) tree built from `yaml-rust2`'s event parser.
//!
//! JSON is read by the same parser: YAML 1.2 flow syntax accepts JSON documents, and a test pins
//! that the JSON form of the SPO example loads the same way. Only one document is read; anchors
//! and aliases are refused (a policy has no use for them, and an alias bomb would be a way to make
//! a small input expensive).

use crate::model::Span;
use yaml_rust2::parser::Parser;
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Event;

/// How deep mappings and lists may nest (a policy needs 6; the limit keeps the tree, and
/// dropping it, far from the stack's end).
pub(crate) const MAX_DEPTH: usize = 64;

/// A node with where it starts.
#[derive(Debug)]
pub(crate) struct Node {
    pub value: Value,
    pub span: Span,
}

/// A node's value.
#[derive(Debug)]
pub(crate) enum Value {
    /// Pairs in input order (duplicates kept; the loader reports them).
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    /// The text and whether it was plain (unquoted): only plain scalars are booleans, numbers
    /// and null.
    Scalar(String, bool),
}

impl Value {
    /// The type name used in messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Scalar(s, true) if is_null(s) => "null",
            Value::Scalar(s, true) if parse_bool(s).is_some() => "a boolean",
            Value::Scalar(s, true) if s.parse::<i64>().is_ok() => "a number",
            Value::Scalar(..) => "a string",
        }
    }
    /// Whether this is a YAML null (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Scalar(s, true) if is_null(s))
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.2 core schema booleans.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A syntax error with its place.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// Lines as editors, `grep -n` and the profile parser count them: only `\n` ends one.
/// yaml-rust2's markers also count a lone `\r` as a line break (YAML's b-break) and put the end
/// of an input without a final newline on a line after the last, so its line and column are
/// not used: the place comes from the marker's character index. An error at the end of the
/// input can carry an index past it (the scanner steps over its end-of-input sentinel), so the
/// index is clamped to the end: one past the last character.
struct Lines {
    /// The character index at which each line starts.
    starts: Vec<usize>,
    /// The number of characters.
    len: usize,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        let mut len = 0;
        for (i, c) in text.chars().enumerate() {
            len = i + 1;
            if c == '\n' {
                starts.push(i + 1);
            }
        }
        Lines { starts, len }
    }

    fn span(&self, m: &Marker) -> Span {
        let index = m.index().min(self.len);
        let line = self.starts.partition_point(|&s| s <= index).max(1);
        let column = index - self.starts[line - 1] + 1;
        Span {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

/// Parse one document; `Ok(None)` for an empty input.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    // yaml-rust2 takes a NUL for the end of the input and would drop what follows it; YAML
    // allows no NUL anywhere (c-printable), so refuse it where it is
    if let Some(at) = text.find('\0') {
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        return Err(SyntaxError {
            span: Span {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
            },
            message: "a NUL character; YAML and JSON text cannot hold one".into(),
        });
    }
    let lines = Lines::new(text);
    let mut p = Parser::new_from_str(text);
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    loop {
        let (ev, m) = p.next_token().map_err(|e| SyntaxError {
            span: lines.span(e.marker()),
            message: e.info().to_string(),
        })?;
        let at = lines.span(&m);
        let node = match ev {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        span: at,
                        message: "more than one document; a policy is one document".into(),
                    });
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(SyntaxError {
                    span: at,
                    message: "aliases are not supported in a policy".into(),
                })
            }
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    return Err(anchor_error(at));
                }
                Node {
                    value: Value::Scalar(text, style == TScalarStyle::Plain),
                    span: at,
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if anchor != 0 {
                    return Err(anchor_error(at));
                }
                let value = if matches!(ev, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        span: at,
                        message: format!("nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push((Node { value, span: at }, None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((n, _)) => n,
                None => continue,
            },
            _ => continue,
        };
        // Attach `node` to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some((parent, pending)) => match &mut parent.value {
                Value::Seq(items) => items.push(node),
                Value::Map(pairs) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => pairs.push((key, node)),
                },
                Value::Scalar(..) => unreachable!("scalars have no children"),
            },
        }
    }
    Ok(root)
}

fn anchor_error(at: Span) -> SyntaxError {
    SyntaxError {
        span: at,
        message: "anchors are not supported in a policy".into(),
    }
}
