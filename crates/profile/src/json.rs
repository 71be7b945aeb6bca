//! A small JSON parser that keeps the line and column of every value and key.
//!
//! serde_json reports where a syntax error is, but not where a semantically wrong value sits, and
//! it cannot see duplicate keys. Profiles need both: every error and warning names its line and
//! column, and duplicate keys are legal (Go keeps the last one) but worth a warning. The parser
//! is strict RFC 8259 JSON, bounded in nesting depth, and never panics on any input.

use std::fmt;

/// The deepest nesting accepted; real profiles nest 5 levels.
pub const MAX_DEPTH: usize = 128;

/// A position in the source: 1-based line and column (in characters), and the byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// Byte offset.
    pub offset: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Maps byte offsets to lines and columns; built once per document, used only when reporting.
///
/// A lookup costs a binary search over the line starts and a count of at most
/// [`CHECKPOINT`] bytes: the number of characters before every [`CHECKPOINT`]-th byte is
/// stored, so that a minified profile (one line of 16 MiB) with a diagnostic on every key
/// stays linear instead of counting from the start of the line for each one.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// `chars[k]`: the characters in `text[..k * CHECKPOINT]` (UTF-8 lead bytes).
    chars: Vec<u32>,
    text: String,
}

/// Bytes between two stored character counts of a [`LineIndex`].
pub const CHECKPOINT: usize = 256;

/// Whether `b` starts a character (is not a UTF-8 continuation byte).
fn is_lead(b: u8) -> bool {
    b & 0xc0 != 0x80
}

impl LineIndex {
    /// Index `text` (for invalid UTF-8, the valid prefix).
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut chars = Vec::with_capacity(text.len() / CHECKPOINT + 1);
        let mut n = 0u32;
        chars.push(0);
        for block in text.as_bytes().chunks(CHECKPOINT) {
            n += block.iter().filter(|&&b| is_lead(b)).count() as u32;
            chars.push(n);
        }
        LineIndex {
            starts,
            chars,
            text: text.to_string(),
        }
    }

    /// The characters before byte `offset` (a character boundary), from the nearest checkpoint.
    fn chars_before(&self, offset: usize) -> usize {
        let k = offset / CHECKPOINT;
        let from = k * CHECKPOINT;
        self.chars[k] as usize
            + self.text.as_bytes()[from..offset]
                .iter()
                .filter(|&&b| is_lead(b))
                .count()
    }

    /// The line and column of byte `offset`.
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = if self.text.is_char_boundary(offset) {
            // a line start follows a `\n`, always a boundary
            self.chars_before(offset) - self.chars_before(start)
        } else {
            offset - start
        };
        Pos {
            line: line as u32,
            col: col as u32 + 1,
            offset,
        }
    }
}

/// A JSON value with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Byte offset of the value's first character.
    pub at: usize,
    /// The value.
    pub value: Value,
}

/// A JSON value. Numbers keep their source text so that 64-bit integers stay exact.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object, members in source order (duplicates kept).
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Byte offset of the key's opening quote.
    pub key_at: usize,
    /// The value.
    pub value: Node,
}

impl Value {
    /// The JSON type name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// A syntax error with its byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// Parse a whole document. Invalid UTF-8 is reported at the first bad byte.
pub fn parse(bytes: &[u8]) -> Result<Node, SyntaxError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SyntaxError {
        at: e.valid_up_to(),
        message: format!(
            "invalid UTF-8 (byte 0x{:02x}): profiles must be UTF-8 text",
            bytes[e.valid_up_to()]
        ),
    })?;
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    if text.starts_with('\u{feff}') {
        return Err(p.err("byte order mark at the start: JSON must not begin with one"));
    }
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected content after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> SyntaxError {
        self.err_at(self.i, msg)
    }

    fn err_at(&self, at: usize, msg: &str) -> SyntaxError {
        SyntaxError {
            at,
            message: msg.to_string(),
        }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let at = self.i;
        let value = match self.b.get(self.i) {
            None => return Err(self.err("unexpected end of input: a value is missing")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                let c = self.s[self.i..].chars().next().unwrap_or('?');
                return Err(self.err(&format!("unexpected character `{}`", c.escape_debug())));
            }
        };
        Ok(Node { at, value })
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, SyntaxError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err(&format!("invalid literal (expected `{word}`)")))
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while matches!(p.b.get(p.i), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = digits(self);
        if n == 0 {
            return Err(self.err("invalid number: digits expected"));
        }
        if n > 1 && self.b[int_start] == b'0' {
            return Err(self.err_at(int_start, "invalid number: leading zero"));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err("invalid number: digits expected after `.`"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number: digits expected in the exponent"));
            }
        }
        Ok(Value::Number(self.s[start..self.i].to_string()))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while let Some(&c) = self.b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.s[run..self.i]);
            match self.b.get(self.i) {
                None => return Err(self.err_at(open, "unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.b.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with("\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    self.i = save;
                                    0xFFFD
                                }
                            } else {
                                hi
                            };
                            // Lone surrogates become U+FFFD, as Go's decoder does.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                        _ => return Err(self.err("invalid escape sequence in string")),
                    };
                    out.push(c);
                    self.i += 1;
                }
                Some(_) => {
                    return Err(self.err("control character in string (escape it, e.g. \\n)"))
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("invalid \\u escape: four hex digits expected"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.err("unexpected end of input inside an array")),
                _ => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err(if self.i >= self.b.len() {
                    "unexpected end of input inside an object"
                } else {
                    "expected a string key in object"
                }));
            }
            let key_at = self.i;
            let key = self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("expected `:` after object key"));
            }
            self.i += 1;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push(Member { key, key_at, value });
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                None => return Err(self.err("unexpected end of input inside an object")),
                _ => return Err(self.err("expected `,` or `}` in object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_line_and_column() {
        let src = "{\n  \"a\": [1, true],\n  \"b\": \"é\", \"c\": 2\n}";
        let idx = LineIndex::new(src);
        let n = parse(src.as_bytes()).unwrap();
        let Value::Object(m) = n.value else { panic!() };
        let p = idx.pos(m[0].key_at);
        assert_eq!((p.line, p.col), (2, 3));
        let p = idx.pos(m[1].value.at);
        assert_eq!((p.line, p.col), (3, 8));
        let Value::Array(a) = &m[0].value.value else {
            panic!()
        };
        assert_eq!(idx.pos(a[1].at).col, 12);
        // columns count characters, not bytes
        assert_eq!(idx.pos(m[2].key_at).col, 13);
    }

    #[test]
    fn syntax_errors_are_located() {
        let src = "{\n  \"a\": [1,,2]\n}";
        let e = parse(src.as_bytes()).unwrap_err();
        let p = LineIndex::new(src).pos(e.at);
        assert_eq!((p.line, p.col), (2, 11), "{e:?}");
        let e = parse(b"{\"a\": 1} x").unwrap_err();
        assert!(e.message.contains("after the JSON value"));
        let e = parse(b"\n\n  {\"a\":\xff}").unwrap_err();
        let p = LineIndex::new("\n\n  {\"a\":").pos(e.at);
        assert_eq!((p.line, p.col), (3, 8));
        assert!(e.message.contains("UTF-8"));
        assert!(parse(b"01").is_err());
        assert!(parse(b"\"\\x\"").is_err());
        assert!(parse(b"\"a\nb\"").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn columns_across_checkpoints_count_characters() {
        // multi-byte characters straddling checkpoints, on long lines and after newlines
        let mut src = String::new();
        for i in 0..3000 {
            src.push(if i % 7 == 0 {
                'é'
            } else if i % 11 == 0 {
                '😀'
            } else {
                'a'
            });
            if i % 1000 == 999 {
                src.push('\n');
            }
        }
        let idx = LineIndex::new(&src);
        for (offset, _) in src.char_indices() {
            let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
            let p = idx.pos(offset);
            assert_eq!(
                p.col as usize,
                src[start..offset].chars().count() + 1,
                "{offset}"
            );
            assert_eq!(p.line as usize, src[..offset].matches('\n').count() + 1);
        }
        assert_eq!(idx.pos(src.len()).offset, src.len());
    }

    #[test]
    fn duplicates_are_kept_in_order() {
        let n = parse(br#"{"a":1,"a":2}"#).unwrap();
        let Value::Object(m) = n.value else { panic!() };
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn escapes_and_numbers() {
        let n = parse(br#"["\u00e9\ud83d\ude00\n", 18446744073709551615, -1.5e3]"#).unwrap();
        let Value::Array(a) = n.value else { panic!() };
        assert_eq!(a[0].value, Value::String("é😀\n".into()));
        assert_eq!(a[1].value, Value::Number("18446744073709551615".into()));
        assert_eq!(a[2].value, Value::Number("-1.5e3".into()));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(100_000);
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.message.contains("nesting"));
    }
}
