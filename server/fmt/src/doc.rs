//! A layout document of text, line breaks, indentation and groups, and the printer that fits it
//! into a line width.
//!
//! The algorithm is Wadler's "prettier printer" with the `fill` extension known from Prettier.
//! A group prints flat, each line break as a space or nothing, when the group and the text after
//! it up to the next possible break fit in the remaining width. Otherwise every line break of the
//! group becomes a newline. A fill breaks only the separators before items that would overflow.

/// A line break and what it prints when its group stays on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// Nothing when flat.
    Soft,
    /// One space when flat.
    Space,
    /// Always a newline; every group around it breaks.
    Hard,
}

#[derive(Debug, Clone)]
pub(crate) enum Doc {
    /// Text printed as it is. Only multi-line tokens, such as ```` ``` ```` strings, hold newlines.
    Text(String),
    /// A comment at the end of a line. It takes no width when the printer measures whether
    /// a group fits, so a long comment does not break the code before it.
    TrailingComment(String),
    Line(Line),
    /// The parts, with line breaks indented one more level.
    Indent(Vec<Doc>),
    /// The parts, flat when they fit. `breaks` is true when a part always ends a line.
    Group {
        parts: Vec<Doc>,
        breaks: bool,
    },
    /// Items at even indices and separator lines at odd indices.
    Fill(Vec<Doc>),
    Concat(Vec<Doc>),
}

impl Doc {
    pub(crate) fn text(text: impl Into<String>) -> Doc {
        Doc::Text(text.into())
    }

    pub(crate) fn space() -> Doc {
        Doc::Text(" ".to_owned())
    }

    pub(crate) fn group(parts: Vec<Doc>) -> Doc {
        let breaks = parts.iter().any(Doc::has_hard_break);
        Doc::Group { parts, breaks }
    }

    /// Returns whether printing this document always ends at least one line.
    pub(crate) fn has_hard_break(&self) -> bool {
        match self {
            Doc::Text(text) => text.contains('\n'),
            Doc::TrailingComment(_) => false,
            Doc::Line(line) => *line == Line::Hard,
            Doc::Group { breaks, .. } => *breaks,
            Doc::Indent(parts) | Doc::Fill(parts) | Doc::Concat(parts) => {
                parts.iter().any(Doc::has_hard_break)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// One pending piece of work for the printer: a document, or the rest of a fill from an item on.
#[derive(Clone, Copy)]
enum Item<'doc> {
    Doc(&'doc Doc),
    FillFrom(&'doc [Doc]),
}

#[derive(Clone, Copy)]
struct Command<'doc> {
    indent: usize,
    mode: Mode,
    item: Item<'doc>,
}

/// Printer settings.
pub(crate) struct Layout<'a> {
    /// Maximum line width in characters.
    pub(crate) width: usize,
    /// Spaces per indentation level.
    pub(crate) indent_width: usize,
    /// The line ending written for every line break of the layout.
    pub(crate) newline: &'a str,
}

/// Prints `doc` within the layout's width where its groups allow.
pub(crate) fn print(doc: &Doc, layout: &Layout<'_>) -> String {
    let mut printer = Printer {
        layout,
        out: String::new(),
        column: 0,
        pending_indent: Some(0),
    };
    printer.run(doc);
    printer.out
}

struct Printer<'a> {
    layout: &'a Layout<'a>,
    out: String,
    column: usize,
    /// The indentation of a line that has been started but has no text yet. Indentation is
    /// written with the line's first text, so lines never end in spaces and two line breaks in
    /// a row never leave a blank line, which would end a KQL query block.
    pending_indent: Option<usize>,
}

impl<'a> Printer<'a> {
    fn run(&mut self, doc: &Doc) {
        let mut commands = vec![Command {
            indent: 0,
            mode: Mode::Break,
            item: Item::Doc(doc),
        }];

        while let Some(command) = commands.pop() {
            let Command { indent, mode, item } = command;
            let doc = match item {
                Item::Doc(doc) => doc,
                Item::FillFrom(parts) => {
                    self.fill(parts, indent, mode, &mut commands);
                    continue;
                }
            };
            match doc {
                Doc::Text(text) | Doc::TrailingComment(text) => self.write(text),
                Doc::Line(line) => match (mode, line) {
                    (Mode::Flat, Line::Soft) => {}
                    (Mode::Flat, Line::Space) => self.write(" "),
                    _ => self.newline(indent),
                },
                Doc::Indent(parts) => push_parts(
                    &mut commands,
                    parts,
                    indent + self.layout.indent_width,
                    mode,
                ),
                Doc::Concat(parts) => push_parts(&mut commands, parts, indent, mode),
                Doc::Group { parts, breaks } => {
                    let flat = !breaks && (mode == Mode::Flat || self.fits(parts, &commands));
                    let mode = if flat { Mode::Flat } else { Mode::Break };
                    push_parts(&mut commands, parts, indent, mode);
                }
                Doc::Fill(parts) => self.fill(parts, indent, mode, &mut commands),
            }
        }
    }

    /// Prints the first item of a fill and decides whether the separator after it breaks:
    /// it does when the next item does not fit on the current line.
    fn fill<'doc>(
        &mut self,
        parts: &'doc [Doc],
        indent: usize,
        mode: Mode,
        commands: &mut Vec<Command<'doc>>,
    ) {
        let Some((content, rest)) = parts.split_first() else {
            return;
        };
        let content_mode = self.flat_if_fits(content);
        let Some((separator, rest)) = rest.split_first() else {
            commands.push(Command {
                indent,
                mode: content_mode,
                item: Item::Doc(content),
            });
            return;
        };

        let next = rest.first();
        let pair_fits = match next {
            Some(next) => self.fits_flat_only(&[content, separator, next]),
            None => true,
        };
        let separator_mode = if pair_fits { Mode::Flat } else { Mode::Break };

        commands.push(Command {
            indent,
            mode,
            item: Item::FillFrom(rest),
        });
        commands.push(Command {
            indent,
            mode: separator_mode,
            item: Item::Doc(separator),
        });
        commands.push(Command {
            indent,
            mode: content_mode,
            item: Item::Doc(content),
        });
    }

    fn flat_if_fits(&self, doc: &Doc) -> Mode {
        if !doc.has_hard_break() && self.fits_flat_only(&[doc]) {
            Mode::Flat
        } else {
            Mode::Break
        }
    }

    fn remaining_width(&self) -> isize {
        let column = self.pending_indent.unwrap_or(self.column);
        self.layout.width as isize - column as isize
    }

    /// Returns whether `parts`, printed flat, fit on the current line.
    fn fits_flat_only(&self, parts: &[&Doc]) -> bool {
        let mut stack: Vec<(Mode, &Doc)> =
            parts.iter().rev().map(|doc| (Mode::Flat, *doc)).collect();
        let mut remaining = self.remaining_width();
        measure(&mut stack, &mut remaining).unwrap_or(remaining >= 0)
    }

    /// Returns whether `parts`, printed flat, and the pending text after them up to the next line break
    /// fit on the current line.
    fn fits(&self, parts: &[Doc], rest: &[Command<'_>]) -> bool {
        let mut stack: Vec<(Mode, &Doc)> =
            parts.iter().rev().map(|doc| (Mode::Flat, doc)).collect();
        let mut remaining = self.remaining_width();
        if let Some(result) = measure(&mut stack, &mut remaining) {
            return result;
        }
        for command in rest.iter().rev() {
            let mut stack: Vec<(Mode, &Doc)> = match command.item {
                Item::Doc(doc) => vec![(command.mode, doc)],
                Item::FillFrom(parts) => {
                    parts.iter().rev().map(|doc| (command.mode, doc)).collect()
                }
            };
            if let Some(result) = measure(&mut stack, &mut remaining) {
                return result;
            }
        }
        true
    }

    fn write(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(indent) = self.pending_indent {
            if text.trim_start_matches(' ').is_empty() {
                return;
            }
            self.out.extend(std::iter::repeat_n(' ', indent));
            self.column = indent;
            self.pending_indent = None;
        }
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(index) => self.column = text[index + 1..].chars().count(),
            None => self.column += text.chars().count(),
        }
    }

    fn newline(&mut self, indent: usize) {
        if self.pending_indent.is_none() {
            let trimmed = self.out.trim_end_matches(' ').len();
            self.out.truncate(trimmed);
            self.out.push_str(self.layout.newline);
        }
        self.pending_indent = Some(indent);
        self.column = indent;
    }
}

fn push_parts<'doc>(
    commands: &mut Vec<Command<'doc>>,
    parts: &'doc [Doc],
    indent: usize,
    mode: Mode,
) {
    commands.extend(parts.iter().rev().map(|doc| Command {
        indent,
        mode,
        item: Item::Doc(doc),
    }));
}

/// Subtracts the width of the documents on `stack` from `remaining`. Returns `Some(false)` as
/// soon as the width runs out, `Some(true)` at the first line break that prints as a newline,
/// and `None` when the stack is used up first.
fn measure(stack: &mut Vec<(Mode, &Doc)>, remaining: &mut isize) -> Option<bool> {
    while let Some((mode, doc)) = stack.pop() {
        match doc {
            Doc::Text(text) => {
                let first_line = text.split('\n').next().unwrap_or_default();
                *remaining -= first_line.chars().count() as isize;
                if *remaining < 0 {
                    return Some(false);
                }
                if text.contains('\n') {
                    return Some(true);
                }
            }
            Doc::TrailingComment(_) => {}
            Doc::Line(line) => match (mode, line) {
                (Mode::Flat, Line::Soft) => {}
                (Mode::Flat, Line::Space) => {
                    *remaining -= 1;
                    if *remaining < 0 {
                        return Some(false);
                    }
                }
                _ => return Some(true),
            },
            Doc::Group { parts, breaks } => {
                let mode = if *breaks { Mode::Break } else { mode };
                stack.extend(parts.iter().rev().map(|doc| (mode, doc)));
            }
            Doc::Indent(parts) | Doc::Fill(parts) | Doc::Concat(parts) => {
                stack.extend(parts.iter().rev().map(|doc| (mode, doc)));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(width: usize) -> Layout<'static> {
        Layout {
            width,
            indent_width: 4,
            newline: "\n",
        }
    }

    fn list(items: &[&str]) -> Doc {
        let mut parts = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                parts.push(Doc::Line(Line::Space));
            }
            let comma = if index + 1 < items.len() { "," } else { "" };
            parts.push(Doc::text(format!("{item}{comma}")));
        }
        Doc::Fill(parts)
    }

    #[test]
    fn group_stays_flat_when_it_fits() {
        let doc = Doc::group(vec![
            Doc::text("f("),
            Doc::Indent(vec![Doc::Line(Line::Soft), Doc::text("a, b")]),
            Doc::Line(Line::Soft),
            Doc::text(")"),
        ]);
        assert_eq!(print(&doc, &layout(20)), "f(a, b)");
        assert_eq!(print(&doc, &layout(5)), "f(\n    a, b\n)");
    }

    #[test]
    fn fill_breaks_only_before_overflowing_items() {
        let doc = Doc::Concat(vec![
            Doc::text("project "),
            Doc::Indent(vec![list(&["alpha", "beta", "gamma", "delta"])]),
        ]);
        assert_eq!(
            print(&doc, &layout(26)),
            "project alpha, beta,\n    gamma, delta"
        );
    }

    #[test]
    fn hard_line_breaks_enclosing_group() {
        let doc = Doc::group(vec![
            Doc::text("a"),
            Doc::Line(Line::Space),
            Doc::text("// note"),
            Doc::Line(Line::Hard),
            Doc::text("b"),
        ]);
        assert_eq!(print(&doc, &layout(80)), "a\n// note\nb");
    }

    #[test]
    fn consecutive_breaks_leave_no_blank_line() {
        let doc = Doc::Concat(vec![
            Doc::text("a "),
            Doc::Line(Line::Hard),
            Doc::Indent(vec![Doc::Line(Line::Hard), Doc::space(), Doc::text("b")]),
        ]);
        assert_eq!(print(&doc, &layout(80)), "a\n    b");
    }
}
