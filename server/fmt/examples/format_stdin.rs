//! Formats KQL from standard input to standard output, for trying layouts by hand.
//!
//! `cargo run -p quarry-fmt --example format_stdin -- [LINE_WIDTH] < query.kql`

use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .expect("standard input is UTF-8 text");
    let mut options = quarry_fmt::FormatOptions::default();
    if let Some(width) = std::env::args().nth(1) {
        options.line_width = width.parse().expect("the line width is a number");
    }
    let formatted = quarry_fmt::format_document(&text, &options);
    #[allow(clippy::print_stdout)]
    {
        print!("{}", formatted.text);
    }
    for range in formatted.unformatted_blocks {
        eprintln!("left unchanged because of syntax errors: bytes {range:?}");
    }
}
