// External scanner for tree-sitter-kql. It emits the separator between query
// blocks: a block ends at a blank line, that is a line that contains only
// spaces, tabs or carriage returns, the way Kusto's tools split a .kql file.
// It also emits integers that `..` follows, because the internal lexer would
// read `1..10` as the real number `1.` and then `.10`.

#include "tree_sitter/parser.h"

#include <stdbool.h>

enum TokenType {
  BLOCK_SEPARATOR,
  INTEGER_BEFORE_RANGE_DOTS,
  BLANK_LINE_PROBE,
  ERROR_SENTINEL,
};

void *tree_sitter_kql_external_scanner_create(void) { return NULL; }

void tree_sitter_kql_external_scanner_destroy(void *payload) { (void)payload; }

unsigned tree_sitter_kql_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}

void tree_sitter_kql_external_scanner_deserialize(void *payload, const char *buffer,
                                                  unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static bool is_line_space(int32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static bool is_digit(int32_t c) { return c >= '0' && c <= '9'; }

// Scans `digits..` (but not `digits...`), leaving the token end after the digits.
static bool scan_integer_before_range_dots(TSLexer *lexer) {
  if (!is_digit(lexer->lookahead)) return false;
  while (is_digit(lexer->lookahead)) lexer->advance(lexer, false);
  lexer->mark_end(lexer);
  if (lexer->lookahead != '.') return false;
  lexer->advance(lexer, false);
  if (lexer->lookahead != '.') return false;
  // In `1...2` the number is the real `1.` before `..`, as Kusto reads it; the internal lexer
  // takes it from here.
  lexer->advance(lexer, false);
  if (lexer->lookahead == '.') return false;
  lexer->result_symbol = INTEGER_BEFORE_RANGE_DOTS;
  return true;
}

bool tree_sitter_kql_external_scanner_scan(void *payload, TSLexer *lexer, const bool *valid_symbols) {
  (void)payload;
  // NOTE: the separator is returned even where the grammar does not expect
  // it, such as right after `| where`. The parser then recovers inside the
  // unfinished block, and the next block starts clean.
  if (!valid_symbols[BLOCK_SEPARATOR] && !valid_symbols[BLANK_LINE_PROBE]) return false;

  // Skip the rest of the current line up to its newline. The separator
  // starts at that newline: spanning two lines makes skipping it cost more
  // in tree-sitter's error recovery than inserting a missing token, so an
  // unfinished block does not swallow the next one.
  while (is_line_space(lexer->lookahead)) lexer->advance(lexer, true);
  if (lexer->lookahead != '\n') {
    // The sentinel is valid only during error recovery, where every token
    // is valid; the integer is only wanted where the grammar expects it.
    if (valid_symbols[INTEGER_BEFORE_RANGE_DOTS] && !valid_symbols[ERROR_SENTINEL]) {
      return scan_integer_before_range_dots(lexer);
    }
    return false;
  }
  lexer->advance(lexer, false);

  // The next line must contain only whitespace.
  while (is_line_space(lexer->lookahead)) lexer->advance(lexer, false);
  if (lexer->lookahead != '\n') return false;
  lexer->advance(lexer, false);
  lexer->mark_end(lexer);

  // Fold any further blank lines into the same separator.
  for (;;) {
    while (is_line_space(lexer->lookahead)) lexer->advance(lexer, false);
    if (lexer->lookahead != '\n') break;
    lexer->advance(lexer, false);
    lexer->mark_end(lexer);
  }

  lexer->result_symbol = BLOCK_SEPARATOR;
  return true;
}
