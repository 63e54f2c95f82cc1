//! A small, tolerant RFC 4180 reader for the list files (OFAC legacy CSV, UK list CSV,
//! OpenSanctions `targets.simple.csv`): quoted fields with `""` escapes and line breaks, CRLF or
//! LF. It never fails: an unterminated quote runs to the end of the input.

/// One record: its fields and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

impl Record {
    /// The field at `i`, or "" when the record is shorter.
    pub fn get(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", String::as_str)
    }
}

/// Iterates over the records of `text`. Blank lines are skipped.
pub(crate) fn records(text: &str) -> Records<'_> {
    Records {
        rest: text,
        line: 1,
    }
}

/// Iterator returned by [`records`].
pub(crate) struct Records<'a> {
    rest: &'a str,
    line: usize,
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let start_line = self.line;
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut chars = self.rest.char_indices().peekable();
            let mut in_quotes = false;
            let mut was_quoted = false;
            let mut end = self.rest.len();
            let mut consumed_newline = false;
            while let Some((i, c)) = chars.next() {
                if in_quotes {
                    match c {
                        '"' => {
                            if matches!(chars.peek(), Some((_, '"'))) {
                                chars.next();
                                field.push('"');
                            } else {
                                in_quotes = false;
                            }
                        }
                        '\n' => {
                            self.line += 1;
                            field.push('\n');
                        }
                        _ => field.push(c),
                    }
                    continue;
                }
                match c {
                    '"' if field.trim().is_empty() && !was_quoted => {
                        field.clear();
                        in_quotes = true;
                        was_quoted = true;
                    }
                    ',' => {
                        fields.push(finish(&mut field, was_quoted));
                        was_quoted = false;
                    }
                    '\r' if matches!(chars.peek(), Some((_, '\n'))) => {}
                    '\n' => {
                        self.line += 1;
                        end = i + 1;
                        consumed_newline = true;
                        break;
                    }
                    _ => field.push(c),
                }
            }
            if !consumed_newline {
                end = self.rest.len();
            }
            fields.push(finish(&mut field, was_quoted));
            self.rest = self.rest.get(end..).unwrap_or("");
            let blank = fields.len() == 1 && fields[0].trim().is_empty();
            if !blank {
                return Some(Record {
                    line: start_line,
                    fields,
                });
            }
        }
    }
}

fn finish(field: &mut String, was_quoted: bool) -> String {
    let f = std::mem::take(field);
    if was_quoted {
        f
    } else {
        f.trim_end_matches('\r').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quoted_fields_escapes_and_line_breaks_are_read() {
        let t = "1,\"a, b\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",-0- \r\n\r\n3";
        let r: Vec<Record> = records(t).collect();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields, vec!["1", "a, b", "say \"hi\""]);
        assert_eq!(r[1].fields, vec!["2", "two\nlines", "-0- "]);
        assert_eq!(r[1].line, 2);
        assert_eq!(r[2].line, 5);
        assert_eq!(r[2].get(7), "");
    }

    proptest! {
        #[test]
        fn any_text_is_read_without_panicking(s in "\\PC{0,200}|[\",\r\n a]{0,60}") {
            let n: usize = records(&s).map(|r| r.fields.len()).sum();
            prop_assert!(n <= s.len() + 1);
        }
    }
}
