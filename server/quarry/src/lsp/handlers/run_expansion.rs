//! Template calls expanded before a run, with the map from the expanded text back to the
//! document, so that an error range from the engine or a remote service lands on the text the
//! user wrote.
//!
//! Text outside the calls maps back by its offset. A range inside a call's expansion maps to
//! the argument whose value the renderer inserted there when exactly one argument's value
//! occurs there, and to the whole call otherwise.

use std::ops::Range;

use chrono::{DateTime, Utc};
use quarry_ide::SourceFile;
use quarry_ide::templates::{self as ide_templates, ExpandError, TemplateCall, TemplateCatalog};

/// A query with its template calls expanded.
#[derive(Clone, Debug)]
pub struct RunExpansion {
    pub text: String,
    pieces: Vec<Piece>,
}

/// A stretch of the expanded text and the document text it came from.
#[derive(Clone, Debug, PartialEq)]
struct Piece {
    expanded: Range<usize>,
    original: Range<usize>,
    /// The argument values of the template call that rendered this piece, or `None` for text
    /// copied from the document as it is.
    arguments: Option<Vec<ArgumentText>>,
    /// `Family.name` of the template call that rendered this piece.
    template: Option<String>,
}

/// The text of a call argument as the renderer inserts it, and where that text is in the
/// document.
#[derive(Clone, Debug, PartialEq)]
struct ArgumentText {
    text: String,
    original_start: usize,
}

impl RunExpansion {
    /// Expands every template call inside `range` of `file`. The text equals what
    /// `ide_templates::expand_range` returns.
    pub fn build(
        catalog: &TemplateCatalog,
        file: &SourceFile,
        range: Range<usize>,
        now: DateTime<Utc>,
    ) -> Result<RunExpansion, ExpandError> {
        let source = file.text();
        let mut expansion = RunExpansion {
            text: String::with_capacity(range.len()),
            pieces: Vec::new(),
        };
        let mut position = range.start;
        for call in ide_templates::template_calls(file) {
            let inside = range.start <= call.range.start && call.range.end <= range.end;
            // A call nested inside an argument of an outer call was expanded with it.
            if !inside || call.range.start < position {
                continue;
            }
            expansion.push_copy(source, position..call.range.start);
            let rendered = ide_templates::expand_call(catalog, file, &call, now)?;
            expansion.push_call(source, &call, &rendered);
            position = call.range.end;
        }
        expansion.push_copy(source, position..range.end);
        Ok(expansion)
    }

    fn push_copy(&mut self, source: &str, original: Range<usize>) {
        if original.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(&source[original.clone()]);
        self.pieces.push(Piece {
            expanded: start..self.text.len(),
            original,
            arguments: None,
            template: None,
        });
    }

    fn push_call(&mut self, source: &str, call: &TemplateCall, rendered: &str) {
        let start = self.text.len();
        self.text.push_str(rendered);
        let arguments = call
            .arguments
            .iter()
            .filter_map(|argument| argument_text(source, argument.value_range.clone()))
            .collect();
        self.pieces.push(Piece {
            expanded: start..self.text.len(),
            original: call.range.clone(),
            arguments: Some(arguments),
            template: Some(format!("{}.{}", call.family, call.name)),
        });
    }

    /// Returns `Family.name` of the template whose own text contains `range`: the range lies
    /// inside one call's expansion and maps to the whole call, not to one of its arguments.
    pub fn template_containing(&self, range: Range<usize>) -> Option<&str> {
        let start = range.start.min(self.text.len());
        let end = range.end.clamp(start, self.text.len());
        let piece = self.piece_at(start, false)?;
        if end > piece.expanded.end {
            return None;
        }
        let arguments = piece.arguments.as_ref()?;
        if self.argument_range(piece, arguments, start..end).is_some() {
            return None;
        }
        piece.template.as_deref()
    }

    /// Maps a byte range of the expanded text to a byte range of the document.
    pub fn to_document(&self, range: Range<usize>) -> Range<usize> {
        let start = range.start.min(self.text.len());
        let end = range.end.clamp(start, self.text.len());
        if let Some(piece) = self.piece_at(start, false)
            && end <= piece.expanded.end
            && let Some(arguments) = &piece.arguments
            && let Some(mapped) = self.argument_range(piece, arguments, start..end)
        {
            return mapped;
        }
        self.point_to_document(start, false)..self.point_to_document(end, true)
    }

    /// Maps a range inside a call's expansion to the inserted text of the one argument whose
    /// value occurs exactly once in the expansion and covers the range.
    fn argument_range(
        &self,
        piece: &Piece,
        arguments: &[ArgumentText],
        range: Range<usize>,
    ) -> Option<Range<usize>> {
        let rendered = &self.text[piece.expanded.clone()];
        let local = range.start - piece.expanded.start..range.end - piece.expanded.start;
        let mut matches = arguments.iter().filter_map(|argument| {
            let mut occurrences = rendered.match_indices(argument.text.as_str());
            let (at, _) = occurrences.next()?;
            if occurrences.next().is_some() {
                // NOTE: a value that occurs more than once cannot be distinguished from the
                // template's own text, so the error keeps the call's range.
                return None;
            }
            let covers = at <= local.start && local.end <= at + argument.text.len();
            covers.then(|| {
                let start = argument.original_start + (local.start - at);
                start..start + local.len()
            })
        });
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    }

    /// Maps one offset of the expanded text to the document. An offset inside a call's
    /// expansion becomes the start of the call, or its end when `is_end` is set.
    fn point_to_document(&self, offset: usize, is_end: bool) -> usize {
        let Some(piece) = self.piece_at(offset, is_end) else {
            return self.pieces.last().map_or(0, |piece| piece.original.end);
        };
        if piece.arguments.is_some() {
            return if is_end && offset > piece.expanded.start {
                piece.original.end
            } else {
                piece.original.start
            };
        }
        piece.original.start + (offset - piece.expanded.start)
    }

    /// Returns the piece that contains `offset`. At the border of two pieces, an end offset
    /// belongs to the piece before it and a start offset to the piece after it.
    fn piece_at(&self, offset: usize, is_end: bool) -> Option<&Piece> {
        let contains = |piece: &&Piece| {
            if is_end {
                piece.expanded.start < offset && offset <= piece.expanded.end
            } else {
                piece.expanded.start <= offset && offset < piece.expanded.end
            }
        };
        self.pieces.iter().find(contains).or_else(|| {
            self.pieces
                .iter()
                .find(|piece| piece.expanded.end == offset)
        })
    }
}

/// Returns the text the renderer inserts for an argument and where it starts in the
/// document: the inside of a string literal without escapes, or the argument as written.
fn argument_text(source: &str, value: Range<usize>) -> Option<ArgumentText> {
    let written = &source[value.clone()];
    let quoted = written.len() >= 2
        && (written.starts_with('"') && written.ends_with('"')
            || written.starts_with('\'') && written.ends_with('\''));
    let (text, original_start) = if quoted && !written.contains('\\') {
        (&written[1..written.len() - 1], value.start + 1)
    } else {
        (written, value.start)
    };
    (!text.is_empty()).then(|| ArgumentText {
        text: text.to_owned(),
        original_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the expansion of `MyHunts.t(x="NoSuchColumn")` at offset 4 of
    /// `T | MyHunts.t(x="NoSuchColumn") | take 1`, rendered as `(X | project NoSuchColumn\n)`.
    fn sample() -> (String, RunExpansion) {
        let document = r#"T | MyHunts.t(x="NoSuchColumn") | take 1"#.to_owned();
        let call_start = document.find("MyHunts").unwrap();
        let call_end = document.find(" | take").unwrap();
        let value_start = document.find("NoSuchColumn").unwrap();
        let rendered = "(X | project NoSuchColumn\n)";
        let text = format!("T | {rendered} | take 1");
        let call_expanded = 4..4 + rendered.len();
        let expansion = RunExpansion {
            pieces: vec![
                Piece {
                    expanded: 0..4,
                    original: 0..4,
                    arguments: None,
                    template: None,
                },
                Piece {
                    expanded: call_expanded.clone(),
                    original: call_start..call_end,
                    arguments: Some(vec![ArgumentText {
                        text: "NoSuchColumn".to_owned(),
                        original_start: value_start,
                    }]),
                    template: Some("MyHunts.t".to_owned()),
                },
                Piece {
                    expanded: call_expanded.end..text.len(),
                    original: call_end..document.len(),
                    arguments: None,
                    template: None,
                },
            ],
            text,
        };
        (document, expansion)
    }

    fn mapped_text<'d>(document: &'d str, expansion: &RunExpansion, needle: &str) -> &'d str {
        let start = expansion
            .text
            .find(needle)
            .expect("needle in the expansion");
        &document[expansion.to_document(start..start + needle.len())]
    }

    #[test]
    fn copied_text_maps_by_offset() {
        let (document, expansion) = sample();
        assert_eq!(mapped_text(&document, &expansion, "take"), "take");
        assert_eq!(mapped_text(&document, &expansion, "T |"), "T |");
    }

    #[test]
    fn argument_value_maps_to_argument() {
        let (document, expansion) = sample();
        assert_eq!(
            mapped_text(&document, &expansion, "NoSuchColumn"),
            "NoSuchColumn"
        );
        assert_eq!(mapped_text(&document, &expansion, "Such"), "Such");
    }

    #[test]
    fn template_text_maps_to_call() {
        let (document, expansion) = sample();
        let call = r#"MyHunts.t(x="NoSuchColumn")"#;
        assert_eq!(mapped_text(&document, &expansion, "project"), call);
        assert_eq!(mapped_text(&document, &expansion, "X |"), call);
    }

    #[test]
    fn template_named_for_its_own_text() {
        let (_, expansion) = sample();
        let range_of = |needle: &str| {
            let start = expansion.text.find(needle).unwrap();
            start..start + needle.len()
        };
        assert_eq!(
            expansion.template_containing(range_of("project")),
            Some("MyHunts.t")
        );
        assert_eq!(
            expansion.template_containing(range_of("NoSuchColumn")),
            None
        );
        assert_eq!(expansion.template_containing(range_of("take")), None);
        assert_eq!(expansion.template_containing(range_of("| (X")), None);
    }

    #[test]
    fn range_across_pieces_widens() {
        let (document, expansion) = sample();
        let start = expansion.text.find("| (X").unwrap();
        let end = expansion.text.find("take").unwrap() + 4;
        assert_eq!(
            &document[expansion.to_document(start..end)],
            r#"| MyHunts.t(x="NoSuchColumn") | take"#
        );
    }

    #[test]
    fn repeated_value_maps_to_call() {
        let (document, mut expansion) = sample();
        if let Some(arguments) = &mut expansion.pieces[1].arguments {
            arguments[0].text = "o".to_owned();
        }
        let start = expansion.text.find("oject").unwrap();
        let mapped = expansion.to_document(start..start + 1);
        assert_eq!(&document[mapped], r#"MyHunts.t(x="NoSuchColumn")"#);
    }

    #[test]
    fn build_matches_expand_range() {
        let library = quarry_templates::library::Library {
            files: quarry_templates::library::bundled_files(),
        };
        let catalog = TemplateCatalog::new(&library);
        let text = "let n = 2;\nDemoHunt.failed_logon_sources(top_count=3)\n| join kind=inner (DemoHunt.signins_from_ip(ip_address=\"203.0.113.77\")) on Computer\n| take n";
        let file = SourceFile::parse(text);
        let now = DateTime::parse_from_rfc3339("2024-03-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let range = text.find("DemoHunt").unwrap()..text.len();

        let expansion = RunExpansion::build(&catalog, &file, range.clone(), now).unwrap();
        let expected = ide_templates::expand_range(&catalog, &file, range, now).unwrap();
        assert_eq!(expansion.text, expected);
        assert_eq!(expansion.pieces.len(), 4, "{:?}", expansion.pieces);

        let take = expansion.text.find("take n").unwrap();
        assert_eq!(&text[expansion.to_document(take..take + 6)], "take n");
    }

    #[test]
    fn argument_text_unquotes_plain_strings() {
        let source = r#"f(a="x y", b='z', c=10, d="q\"r", e="")"#;
        let value = |needle: &str| {
            let start = source.find(needle).unwrap();
            argument_text(source, start..start + needle.len())
        };
        assert_eq!(value(r#""x y""#).unwrap().text, "x y");
        assert_eq!(value("'z'").unwrap().text, "z");
        assert_eq!(value("10").unwrap().text, "10");
        assert_eq!(value(r#""q\"r""#).unwrap().text, r#""q\"r""#);
        assert!(value(r#""""#).is_none());
    }
}
