// External scanner for tree-sitter-kql: emits the separator between query
// blocks. A block ends at a blank line, that is a line holding only spaces,
// tabs or carriage returns, the way Kusto's tools split a .kql file.

#include "tree_sitter/parser.h"

#include <stdbool.h>

enum TokenType {
  BLOCK_SEPARATOR,
  BLANK_LINE_PROBE,
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
  if (lexer->lookahead != '\n') return false;
  lexer->advance(lexer, false);

  // The next line must hold only whitespace.
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
