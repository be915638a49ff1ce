/**
 * Tree-sitter grammar for the Kusto Query Language (KQL).
 *
 * A document is a list of query blocks separated by blank lines, as Kusto's
 * own tools split a .kql file. The external scanner (src/scanner.c) emits the
 * block separator. Inside a block, statements are separated by `;`.
 *
 * Node and field names are part of Quarry's API: see NODES.md before renaming.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  or: 1,
  and: 2,
  equality: 3,
  relational: 4,
  additive: 5,
  multiplicative: 6,
  unary: 7,
  postfix: 8,
};

// String operators with their case-sensitive (`_cs`) forms; each also has a
// negated `!` form.
const STRING_OPERATORS = [
  'has', 'has_cs', 'hasprefix', 'hasprefix_cs', 'hassuffix', 'hassuffix_cs',
  'contains', 'contains_cs', 'startswith', 'startswith_cs',
  'endswith', 'endswith_cs', 'like', 'like_cs',
];

// Timespan units accepted after a number, as in `1d`, `1.5h`, `100ms`, `10tick`.
const TIMESPAN_UNITS = [
  'days', 'day', 'd',
  'hours', 'hour', 'hrs', 'hr', 'h',
  'minutes', 'minute', 'mins', 'min', 'm',
  'seconds', 'second', 'secs', 'sec', 's',
  'milliseconds', 'millisecond', 'millisec', 'millis', 'milli', 'ms',
  'microseconds', 'microsecond', 'microsec', 'micros', 'micro',
  'nanoseconds', 'nanosecond', 'nanosec', 'nanos', 'nano',
  'ticks', 'tick',
];

/**
 * Matches one or more `rule`s separated by commas.
 * @param {RuleOrLiteral} rule
 */
function commaSep1(rule) {
  return seq(rule, repeat(seq(',', rule)));
}

/**
 * Matches zero or more `rule`s separated by commas.
 * @param {RuleOrLiteral} rule
 */
function commaSep(rule) {
  return optional(commaSep1(rule));
}

/**
 * Matches an operator's parameters such as `kind=inner`: hints or one of `names`. Each operator
 * lists its own names, so that a misplaced name is a syntax error. Every list of names needs an
 * entry in PARAMETER_NAME_SETS.
 * @param {GrammarSymbols<string>} $
 * @param {string[]} names
 */
function parameters($, ...names) {
  if (names.length === 0) {
    return repeat(field('parameter', $.operator_parameter));
  }
  const rule = $[parameterRuleName(names)];
  return repeat(field('parameter', choice($.operator_parameter, alias(rule, $.operator_parameter))));
}

/**
 * Names the hidden rule for the operator parameters named `names`.
 * @param {string[]} names
 */
function parameterRuleName(names) {
  return '_' + names.join('_') + '_parameter';
}

// The lists of parameter names that operators accept besides hints.
const PARAMETER_NAME_SETS = [
  ['decodeblocks'],
  ['withsource', 'with_source', 'datascope', 'isfuzzy'],
  ['kind'],
  ['kind', 'isfuzzy'],
  ['cycles'],
  ['bagexpansion', 'with_itemindex', 'kind'],
  ['kind', 'flags'],
  ['with_match_id'],
  ['kind', 'withsource', 'with_source', 'isfuzzy'],
];

/**
 * Matches a keyword in lower case, upper case or capitalized, such as `true`, `TRUE` or `True`.
 * @param {string} word
 */
function anyCase(word) {
  return choice(word, word.toUpperCase(), word[0].toUpperCase() + word.slice(1));
}

module.exports = grammar({
  name: 'kql',

  word: $ => $.identifier,

  extras: $ => [/\s/, $.comment, $._blank_line_probe],

  externals: $ => [
    $.block_separator,
    // An integer directly followed by `..`, as in `between (1..10)`. The internal lexer would
    // read `1.` as a real number.
    $._integer_before_range_dots,
    // Never emitted. Listing it in `extras` makes tree-sitter call the
    // scanner in every parse state, so a blank line ends the block even in
    // the middle of an unfinished expression.
    $._blank_line_probe,
    // Never used in a rule, so it is valid only while the parser recovers from an error.
    $._error_sentinel,
  ],

  conflicts: $ => [],

  supertypes: $ => [
    $._statement,
    $._expression,
    $._tabular_operator,
  ],

  rules: {
    // Written so that one token of lookahead decides every step: an ambiguous form would
    // make tree-sitter mark the top-level nodes as fragile and stop reusing them when it
    // reparses after an edit.
    source_file: $ => seq(
      optional($.query_block),
      repeat(seq($.block_separator, optional($.query_block))),
    ),

    query_block: $ => seq(
      $._statement,
      repeat(seq(';', optional($._statement))),
    ),

    _statement: $ => choice(
      $.let_statement,
      $.set_statement,
      $.alias_statement,
      $.declare_query_parameters_statement,
      $.pattern_statement,
      $.restrict_statement,
      $.control_command,
      $.query_statement,
    ),

    query_statement: $ => $._query,

    // ---------------------------------------------------------------
    // Statements

    let_statement: $ => seq(
      'let',
      field('name', $._name),
      '=',
      field('value', choice($._query, $.lambda_expression, $.view_expression)),
    ),

    lambda_expression: $ => seq(
      field('parameters', $.parameter_list),
      field('body', $.function_body),
    ),

    view_expression: $ => seq(
      'view',
      field('parameters', $.parameter_list),
      field('body', $.function_body),
    ),

    parameter_list: $ => seq('(', commaSep($.parameter), ')'),

    parameter: $ => seq(
      field('name', $._name),
      ':',
      field('type', choice($.type_name, $.tabular_type)),
      optional(seq('=', field('default', $._expression))),
    ),

    tabular_type: $ => seq('(', commaSep1(choice('*', $.column_declaration)), ')'),

    column_declaration: $ => seq(
      field('name', $._name),
      ':',
      field('type', $.type_name),
    ),

    type_name: $ => $.identifier,

    function_body: $ => seq(
      '{',
      optional(seq($._statement, repeat(seq(';', optional($._statement))))),
      '}',
    ),

    set_statement: $ => seq(
      'set',
      field('name', $.option_name),
      optional(seq('=', field('value', $._expression))),
    ),

    option_name: $ => /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/,

    alias_statement: $ => seq(
      'alias',
      'database',
      field('name', $._name),
      '=',
      field('value', $._expression),
    ),

    declare_query_parameters_statement: $ => seq(
      'declare',
      'query_parameters',
      field('parameters', $.parameter_list),
    ),

    // `declare pattern P;` or a full pattern definition with its mappings.
    pattern_statement: $ => seq(
      'declare',
      'pattern',
      field('name', $._name),
      optional(seq(
        '=',
        field('parameters', $.parameter_list),
        optional(seq('[', field('path_parameter', $.parameter), ']')),
        '{',
        repeat($.pattern_mapping),
        '}',
      )),
    ),

    pattern_mapping: $ => seq(
      '(', commaSep(field('argument', $._expression)), ')',
      optional(seq('.', '[', field('path', $.string_literal), ']')),
      '=',
      field('body', $.function_body),
      optional(';'),
    ),

    restrict_statement: $ => prec.right(seq(
      'restrict', 'access', 'to',
      '(', commaSep1(choice($._expression, $.wildcard_name, seq($._primary, '.', '*'))), ')',
    )),

    // ---------------------------------------------------------------
    // Tabular expressions

    // Anything that can stand as a statement, a `let` value, an argument or
    // a parenthesized subquery: a scalar or tabular expression, possibly
    // piped through tabular operators.
    _query: $ => choice(
      $.pipe_expression,
      $._expression,
      $._source_operator,
    ),

    pipe_expression: $ => prec.left(seq(
      field('source', choice($.pipe_expression, $._expression, $._source_operator)),
      '|',
      field('operator', $._tabular_operator),
    )),

    // Operators that can start a query without a source table.
    _source_operator: $ => choice(
      $.print_operator,
      $.range_operator,
      $.union_operator,
      $.find_operator,
      $.search_operator,
      $.evaluate_operator,
      $.macro_expand_operator,
    ),

    // A management command such as `.show tables` or `.set T <| query`. Kusto's command
    // language is large, so the arguments are kept as a loose list of tokens.
    control_command: $ => prec.right(seq(
      field('name', $.command_name),
      repeat(field('argument', $._command_part)),
      optional(choice(
        seq('<|', field('query', $._query)),
        repeat1(seq('|', field('operator', $._tabular_operator))),
      )),
    )),

    command_name: $ => /\.[A-Za-z][A-Za-z0-9_-]*/,

    _command_part: $ => choice(
      $.identifier,
      $._single_literal,
      $.command_arguments,
      $.function_body,
      $.hint_name,
      '=', ',', ':', '.', '*', '-',
    ),

    command_arguments: $ => seq(
      '(',
      commaSep(choice($.parameter, $.named_argument, $._expression)),
      ')',
    ),

    // A chain of operators with no source, as in `fork (where x | take 1)`.
    operator_pipeline: $ => seq(
      $._tabular_operator,
      repeat(seq('|', $._tabular_operator)),
    ),

    _tabular_operator: $ => choice(
      $.as_operator,
      $.consume_operator,
      $.count_operator,
      $.distinct_operator,
      $.evaluate_operator,
      $.extend_operator,
      $.facet_operator,
      $.find_operator,
      $.fork_operator,
      $.getschema_operator,
      $.invoke_operator,
      $.join_operator,
      $.lookup_operator,
      $.macro_expand_operator,
      $.make_graph_operator,
      $.graph_match_operator,
      $.make_series_operator,
      $.mv_apply_operator,
      $.mv_expand_operator,
      $.parse_operator,
      $.parse_kv_operator,
      $.parse_where_operator,
      $.partition_operator,
      $.print_operator,
      $.project_operator,
      $.project_away_operator,
      $.project_keep_operator,
      $.project_rename_operator,
      $.project_reorder_operator,
      $.range_operator,
      $.reduce_operator,
      $.render_operator,
      $.sample_operator,
      $.sample_distinct_operator,
      $.scan_operator,
      $.search_operator,
      $.serialize_operator,
      $.sort_operator,
      $.summarize_operator,
      $.take_operator,
      $.top_operator,
      $.top_hitters_operator,
      $.top_nested_operator,
      $.union_operator,
      $.where_operator,
    ),

    // `hint.strategy=shuffle` and the like; every operator with parameters accepts hints.
    operator_parameter: $ => seq(
      field('name', $.hint_name),
      '=',
      field('value', $._parameter_value),
    ),

    hint_name: $ => /hint\.[A-Za-z_][A-Za-z0-9_]*/,

    _parameter_value: $ => choice(
      $.identifier,
      $._single_literal,
      seq('-', $.integer_literal),
    ),

    as_operator: $ => seq(
      'as',
      parameters($),
      field('name', $._name),
    ),

    consume_operator: $ => seq('consume', parameters($, 'decodeblocks')),

    count_operator: $ => 'count',

    distinct_operator: $ => prec.right(seq(
      'distinct',
      parameters($),
      commaSep1(field('column', $._expression)),
    )),

    evaluate_operator: $ => seq(
      'evaluate',
      parameters($),
      field('plugin', $.call_expression),
      optional(seq(':', field('schema', $.tabular_type))),
    ),

    extend_operator: $ => prec.right(seq('extend', commaSep1(field('column', $._column_expression)))),

    facet_operator: $ => prec.right(seq(
      'facet', 'by',
      commaSep1(field('column', $._name)),
      optional(seq('with', '(', field('subquery', $.operator_pipeline), ')')),
    )),

    find_operator: $ => prec.right(seq(
      'find',
      parameters($, 'withsource', 'with_source', 'datascope', 'isfuzzy'),
      optional(seq('in', '(', commaSep1(field('table', choice($._expression, $.wildcard_name))), ')')),
      optional('where'),
      field('predicate', $._expression),
      optional(seq(
        choice('project', 'project-smart'),
        commaSep(field('column', choice($._expression, $.column_declaration, 'pack_all'))),
      )),
    )),

    fork_operator: $ => seq('fork', repeat1($.fork_branch)),

    fork_branch: $ => seq(
      optional(seq(field('name', $._name), '=')),
      '(', field('subquery', $.operator_pipeline), ')',
    ),

    getschema_operator: $ => 'getschema',

    invoke_operator: $ => seq('invoke', field('function', $.call_expression)),

    join_operator: $ => prec.right(seq(
      'join',
      parameters($, 'kind'),
      field('right', $._expression),
      optional(seq('on', commaSep1(field('condition', $._expression)))),
    )),

    lookup_operator: $ => prec.right(seq(
      'lookup',
      parameters($, 'kind'),
      field('right', $._expression),
      'on',
      commaSep1(field('condition', $._expression)),
    )),

    macro_expand_operator: $ => seq(
      'macro-expand',
      parameters($, 'kind', 'isfuzzy'),
      field('entity_group', $._expression),
      'as',
      field('name', $._name),
      '(',
      optional(seq($._statement, repeat(seq(';', optional($._statement))))),
      ')',
    ),

    make_graph_operator: $ => prec.right(seq(
      'make-graph',
      field('source', $._name),
      choice('-->', '--'),
      field('target', $._name),
      optional(seq('with', commaSep1(seq(field('nodes', $._expression), 'on', field('node_id', $._name))))),
      optional(seq('with_node_id', '=', field('node_id', $._name))),
    )),

    graph_match_operator: $ => prec.right(seq(
      'graph-match',
      parameters($, 'cycles'),
      commaSep1(field('pattern', $.graph_pattern)),
      optional(seq('where', field('predicate', $._expression))),
      optional(seq('project', commaSep1(field('column', $._column_expression)))),
    )),

    graph_pattern: $ => seq(
      $.graph_node,
      repeat(seq($.graph_edge, $.graph_node)),
    ),

    graph_node: $ => seq('(', optional(field('name', $._name)), ')'),

    graph_edge: $ => choice(
      '-->', '<--', '--',
      seq(choice('-[', '<-['), optional(field('name', $._name)),
        optional(seq('*', field('min', $.integer_literal), '..', field('max', $.integer_literal))),
        choice(']->', ']-')),
    ),

    make_series_operator: $ => prec.right(seq(
      'make-series',
      parameters($, 'kind'),
      commaSep1(field('aggregate', $.make_series_aggregate)),
      'on', field('axis', $._expression),
      choice(
        seq(
          optional(seq('from', field('from', $._expression))),
          optional(seq('to', field('to', $._expression))),
          'step', field('step', $._expression),
        ),
        seq($._in_range, field('range', $.argument_list)),
      ),
      optional(seq('by', commaSep1(field('group', $._column_expression)))),
    )),

    _in_range: $ => token(seq('in', /\s+/, 'range')),

    make_series_aggregate: $ => seq(
      $._column_expression,
      optional(seq('default', '=', field('default', $._expression))),
    ),

    mv_apply_operator: $ => prec.right(seq(
      'mv-apply',
      parameters($, 'bagexpansion', 'with_itemindex', 'kind'),
      commaSep1(field('column', $.mv_column)),
      optional(seq('limit', field('limit', $._expression))),
      'on',
      '(', field('subquery', $.operator_pipeline), ')',
    )),

    mv_expand_operator: $ => prec.right(seq(
      choice('mv-expand', 'mvexpand'),
      parameters($, 'bagexpansion', 'with_itemindex', 'kind'),
      commaSep1(field('column', $.mv_column)),
      optional(seq('limit', field('limit', $._expression))),
    )),

    mv_column: $ => seq(
      $._column_expression,
      optional(seq('to', field('type', $.typeof_literal))),
    ),

    parse_operator: $ => prec.right(seq(
      'parse',
      parameters($, 'kind', 'flags'),
      field('source', $._expression),
      'with',
      repeat1(field('pattern', $._parse_pattern_item)),
    )),

    parse_where_operator: $ => prec.right(seq(
      'parse-where',
      parameters($, 'kind', 'flags'),
      field('source', $._expression),
      'with',
      repeat1(field('pattern', $._parse_pattern_item)),
    )),

    _parse_pattern_item: $ => choice(
      $.star,
      $.string_literal,
      $.parse_column,
    ),

    parse_column: $ => seq(
      field('name', $._name),
      optional(seq(':', field('type', $.type_name))),
    ),

    parse_kv_operator: $ => seq(
      'parse-kv',
      field('source', $._expression),
      'as',
      field('columns', $.tabular_type),
      optional(seq('with', '(', commaSep(field('property', $.named_argument)), ')')),
    ),

    partition_operator: $ => seq(
      'partition',
      parameters($),
      'by',
      field('key', $._name),
      choice(
        seq('(', field('subquery', $.operator_pipeline), ')'),
        seq('{', field('subquery', $._query), '}'),
      ),
    ),

    print_operator: $ => prec.right(seq('print', commaSep(field('column', $._column_expression)))),

    project_operator: $ => prec.right(seq('project', commaSep1(field('column', $._column_expression)))),

    project_away_operator: $ => prec.right(seq(
      'project-away',
      commaSep1(field('column', $._column_pattern)),
    )),

    project_keep_operator: $ => prec.right(seq(
      'project-keep',
      commaSep1(field('column', $._column_pattern)),
    )),

    project_rename_operator: $ => prec.right(seq(
      'project-rename',
      commaSep1(field('column', $.assignment)),
    )),

    project_reorder_operator: $ => prec.right(seq(
      'project-reorder',
      commaSep1(field('column', $.reorder_column)),
    )),

    reorder_column: $ => seq(
      $._column_pattern,
      optional(field('order', choice('asc', 'desc', 'granny-asc', 'granny-desc'))),
    ),

    _column_pattern: $ => choice($._name, $.wildcard_name),

    range_operator: $ => seq(
      'range',
      field('name', $.identifier),
      'from', field('from', $._expression),
      'to', field('to', $._expression),
      'step', field('step', $._expression),
    ),

    reduce_operator: $ => prec.right(seq(
      'reduce',
      parameters($, 'kind'),
      'by', field('key', $._expression),
      optional(seq('with', commaSep1(field('property', $.named_argument)))),
    )),

    render_operator: $ => prec.right(seq(
      'render',
      field('visualization', $.identifier),
      optional(choice(
        seq('with', '(', commaSep(field('property', choice($.named_argument, $._expression))), ')'),
        repeat1(field('property', $.named_argument)),
      )),
    )),

    sample_operator: $ => seq('sample', field('count', $._expression)),

    sample_distinct_operator: $ => seq(
      'sample-distinct',
      field('count', $._expression),
      'of',
      field('column', $._expression),
    ),

    scan_operator: $ => prec.right(seq(
      'scan',
      parameters($, 'with_match_id'),
      optional(seq('order', 'by', commaSep1(field('order', $.sort_expression)))),
      optional(seq('partition', 'by', commaSep1(field('partition', $._expression)))),
      optional(seq('declare', '(', commaSep1(field('declaration', $.parameter)), ')')),
      'with',
      '(', repeat1(field('step', $.scan_step)), ')',
    )),

    scan_step: $ => seq(
      'step',
      field('name', $._name),
      optional(seq('output', '=', field('output', $.identifier))),
      ':',
      field('predicate', $._expression),
      optional(seq('=>', commaSep1(field('assignment', $.assignment)))),
      ';',
    ),

    search_operator: $ => prec.right(seq(
      'search',
      parameters($, 'kind'),
      optional(seq('in', '(', commaSep1(field('table', choice($._expression, $.wildcard_name))), ')')),
      field('predicate', $._search_predicate),
    )),

    // A search predicate is an expression that may also contain column-restricted terms such as
    // `Col:"x"`. Only `and` and `or` can join such a term to the rest. So the `and` and `or` at
    // the top of the predicate get rules of their own, aliased to `binary_expression`, and the
    // precedence on `_search_operand` makes an ordinary operand end before them.
    _search_predicate: $ => choice(
      $._search_operand,
      alias($._search_logical_expression, $.binary_expression),
    ),

    _search_logical_expression: $ => choice(
      ...[[PREC.or, 'or'], [PREC.and, 'and']].map(([precedence, operator]) => prec.left(
        /** @type {number} */ (precedence),
        seq(
          field('left', $._search_predicate),
          field('operator', /** @type {string} */ (operator)),
          field('right', $._search_predicate),
        ),
      )),
    ),

    _search_operand: $ => choice(
      prec.left(PREC.and, $._expression),
      alias($._column_search_term, $.binary_expression),
      alias($._search_parenthesized, $.parenthesized_expression),
    ),

    // `("err" or Col:"x")`. Parentheses around an ordinary expression match this rule and
    // `parenthesized_expression` alike. The precedence on `_search_operand` picks this rule,
    // which builds the same tree.
    _search_parenthesized: $ => seq('(', $._search_predicate, ')'),

    // `Col:"x"` searches the column `Col` for the term `x`, and `*:"x"` searches every column.
    _column_search_term: $ => prec.left(PREC.equality, seq(
      field('left', choice($._name, $.star)),
      field('operator', ':'),
      field('right', $._expression),
    )),

    serialize_operator: $ => prec.right(seq(
      'serialize',
      commaSep(field('column', $._column_expression)),
    )),

    sort_operator: $ => prec.right(seq(
      choice('sort', 'order'),
      parameters($),
      'by',
      commaSep1(field('key', $.sort_expression)),
    )),

    sort_expression: $ => seq(
      field('value', $._expression),
      optional(field('order', choice('asc', 'desc'))),
      optional(seq('nulls', field('nulls', choice('first', 'last')))),
    ),

    summarize_operator: $ => prec.right(seq(
      'summarize',
      parameters($),
      commaSep(field('aggregate', $._column_expression)),
      optional(seq('by', commaSep1(field('group', $._column_expression)))),
    )),

    take_operator: $ => seq(
      choice('take', 'limit'),
      parameters($),
      field('count', $._expression),
    ),

    top_operator: $ => seq(
      'top',
      field('count', $._expression),
      'by',
      field('key', $.sort_expression),
    ),

    top_hitters_operator: $ => seq(
      'top-hitters',
      field('count', $._expression),
      'of',
      field('column', $._expression),
      optional(seq('by', field('weight', $._expression))),
    ),

    top_nested_operator: $ => prec.right(seq(
      commaSep1($.top_nested_clause),
    )),

    top_nested_clause: $ => seq(
      'top-nested',
      optional(field('count', $._expression)),
      'of',
      field('column', $._column_expression),
      optional(seq('with', 'others', '=', field('others', $._expression))),
      'by',
      field('aggregate', $._column_expression),
      optional(field('order', choice('asc', 'desc'))),
    ),

    union_operator: $ => prec.right(seq(
      'union',
      parameters($, 'kind', 'withsource', 'with_source', 'isfuzzy'),
      commaSep1(field('table', choice($._expression, $.wildcard_name))),
    )),

    where_operator: $ => seq(
      choice('where', 'filter'),
      field('predicate', $._expression),
    ),

    // `Name = expr`, `(A, B) = expr` or a bare expression.
    _column_expression: $ => choice($.assignment, $._expression),

    assignment: $ => seq(
      field('name', choice($._name, $.name_list)),
      '=',
      field('value', $._expression),
    ),

    name_list: $ => seq('(', commaSep1($._name), ')'),

    // ---------------------------------------------------------------
    // Scalar expressions

    _expression: $ => choice(
      $.binary_expression,
      $.unary_expression,
      $.in_expression,
      $.between_expression,
      $._primary,
    ),

    binary_expression: $ => {
      const table = [
        [PREC.or, 'or'],
        [PREC.and, 'and'],
        [PREC.equality, choice(
          '==', '!=', '<>', '=~', '!~', '=',
          ...STRING_OPERATORS,
          ...STRING_OPERATORS.map(op => '!' + op),
          'notcontains', 'notcontains_cs', 'notlike', 'notlike_cs',
          seq('matches', 'regex'),
        )],
        [PREC.relational, choice('<', '<=', '>', '>=')],
        [PREC.additive, choice('+', '-')],
        [PREC.multiplicative, choice('*', '/', '%')],
      ];
      return choice(...table.map(([precedence, operator]) => prec.left(
        /** @type {number} */ (precedence),
        seq(
          field('left', $._expression),
          // @ts-ignore
          field('operator', operator),
          field('right', $._expression),
        ),
      )));
    },

    unary_expression: $ => prec(PREC.unary, seq(
      field('operator', choice('-', '+')),
      field('operand', $._expression),
    )),

    in_expression: $ => prec.left(PREC.equality, seq(
      field('left', $._expression),
      field('operator', choice('in', '!in', 'in~', '!in~', 'has_any', 'has_all')),
      field('right', $.expression_list),
    )),

    between_expression: $ => prec.left(PREC.equality, seq(
      field('left', $._expression),
      field('operator', choice('between', '!between')),
      '(',
      field('low', $._expression),
      '..',
      field('high', $._expression),
      ')',
    )),

    expression_list: $ => seq('(', commaSep($._query), ')'),

    _primary: $ => choice(
      $.identifier,
      // `range` also starts the range operator, yet it is a common column and function name.
      alias('range', $.identifier),
      $.bracketed_name,
      $._literal,
      $.parenthesized_expression,
      $.call_expression,
      $.member_expression,
      $.index_expression,
      $.datatable_expression,
      $.externaldata_expression,
      $.entity_group,
      $.star,
    ),

    parenthesized_expression: $ => seq('(', $._query, ')'),

    call_expression: $ => prec(PREC.postfix, seq(
      // `entity_group` also starts the `entity_group [...]` list, yet `entity_group("name")`
      // calls the function that looks up a stored entity group.
      field('function', choice($._primary, alias('entity_group', $.identifier))),
      field('arguments', $.argument_list),
    )),

    argument_list: $ => seq(
      '(',
      commaSep(choice($._query, $.named_argument)),
      ')',
    ),

    named_argument: $ => seq(
      field('name', $._name),
      '=',
      field('value', $._expression),
    ),

    member_expression: $ => prec(PREC.postfix, seq(
      field('object', $._primary),
      '.',
      field('member', $.identifier),
    )),

    // `a[0]`, `a["b"]`, and the dotted forms `a.['b c']` and `a.[i]`.
    index_expression: $ => prec(PREC.postfix, seq(
      field('object', $._primary),
      optional('.'),
      '[',
      field('index', $._expression),
      ']',
    )),

    datatable_expression: $ => seq(
      'datatable',
      field('schema', $.tabular_type),
      '[',
      commaSep(field('value', $._expression)),
      optional(','),
      ']',
    ),

    externaldata_expression: $ => prec.right(seq(
      choice('externaldata', 'external_data'),
      field('schema', $.tabular_type),
      '[',
      commaSep1(field('uri', $.string_literal)),
      optional(','),
      ']',
      optional(seq('with', '(', commaSep(field('property', $.named_argument)), ')')),
    )),

    // `entity_group [T1, T2]`, the tables a `macro-expand` runs over.
    entity_group: $ => seq('entity_group', '[', commaSep1(field('entity', $._expression)), ']'),

    star: $ => '*',

    // Where a name and an expression can both start, as in `extend a = b`, the name wins, so
    // `a = b` is an assignment there and an equality test elsewhere, as in `where a = b`.
    _name: $ => choice(prec(1, $.identifier), prec(1, $.bracketed_name)),

    bracketed_name: $ => seq('[', $.string_literal, ']'),

    // A column-name pattern with `*` wildcards, as in `project-away Prop*`.
    wildcard_name: $ => /[A-Za-z0-9_]*\*[A-Za-z0-9_*]*/,

    // Kusto also accepts names that start with digits, such as `5h_MovingAvg`. Quarry requires
    // an underscore in them so that they never match a number or a timespan such as `5h`.
    identifier: $ => token(choice(
      /[$\p{L}_][\p{L}\p{N}_]*/,
      /[0-9]+[\p{L}\p{N}]*_[\p{L}\p{N}_]*/,
    )),

    // ---------------------------------------------------------------
    // Literals

    _literal: $ => choice(
      $._single_literal,
      alias($._integer_before_range_dots, $.integer_literal),
      $.concatenated_string,
    ),

    // Every literal but adjacent strings, for places where two strings in a row are two values.
    _single_literal: $ => choice(
      $.string_literal,
      $.integer_literal,
      $.real_literal,
      $.timespan_literal,
      $.bool_literal,
      $.datetime_literal,
      $.guid_literal,
      $.typeof_literal,
      $.typed_literal,
      $.dynamic_literal,
    ),

    string_literal: $ => token(choice(
      seq(optional(/[hH]/), '"', repeat(choice(/[^"\\\n]/, /\\./)), '"'),
      seq(optional(/[hH]/), '\'', repeat(choice(/[^'\\\n]/, /\\./)), '\''),
      seq(optional(/[hH]/), '@"', repeat(choice(/[^"\n]/, '""')), '"'),
      seq(optional(/[hH]/), '@\'', repeat(choice(/[^'\n]/, '\'\'')), '\''),
      seq('```', /([^`]|`[^`]|``[^`])*/, '```'),
      seq('~~~', /([^~]|~[^~]|~~[^~])*/, '~~~'),
    )),

    // Adjacent string literals, which Kusto joins into one string.
    concatenated_string: $ => prec.right(seq($.string_literal, repeat1($.string_literal))),

    integer_literal: $ => token(choice(/[0-9]+/, /0[xX][0-9a-fA-F]+/)),

    real_literal: $ => token(choice(
      /[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?/,
      /[0-9]+[eE][+-]?[0-9]+/,
    )),

    timespan_literal: $ => token(choice(
      seq(/[0-9]+(\.[0-9]+)?/, choice(...TIMESPAN_UNITS)),
      /(time|timespan)[ \t]*\([^)]*\)/,
    )),

    bool_literal: $ => choice(anyCase('true'), anyCase('false')),

    datetime_literal: $ => token(/(datetime|date)[ \t]*\([^)]*\)/),

    guid_literal: $ => token(/(guid|uuid|uniqueid)[ \t]*\([^)]*\)/),

    typeof_literal: $ => token(/typeof[ \t]*\([^)]*\)/),

    // A literal spelled with its type, such as `long(null)`, `real(nan)`, `int(-3)` or
    // `bool(true)`. Anything else in the parentheses, such as `double(x)`, makes a call.
    typed_literal: $ => token(seq(
      /(bool|boolean|int|int32|long|int64|real|double|decimal|string)[ \t]*\([ \t]*/,
      choice(
        'null',
        /[+-]?(nan|inf)/,
        /true|True|TRUE|false|False|FALSE/,
        /[+-]?0[xX][0-9a-fA-F]+/,
        /[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/,
      ),
      /[ \t]*\)/,
    )),

    dynamic_literal: $ => seq(
      alias(token(/dynamic[ \t]*\(/), 'dynamic('),
      optional(field('value', $._json_value)),
      ')',
    ),

    _json_value: $ => choice(
      $.json_array,
      $.json_object,
      $.dynamic_literal,
      $.string_literal,
      $.concatenated_string,
      $.json_number,
      $.timespan_literal,
      $.datetime_literal,
      $.guid_literal,
      $.typed_literal,
      $.bool_literal,
      $.json_null,
    ),

    json_number: $ => seq(optional(choice('-', '+')), choice($.integer_literal, $.real_literal)),

    json_null: $ => 'null',

    json_array: $ => seq('[', commaSep($._json_value), optional(','), ']'),

    json_object: $ => seq('{', commaSep($.json_pair), optional(','), '}'),

    json_pair: $ => seq(
      field('key', $.string_literal),
      ':',
      field('value', $._json_value),
    ),

    comment: $ => token(seq('//', /[^\n]*/)),

    ...Object.fromEntries(PARAMETER_NAME_SETS.map(names => [
      parameterRuleName(names),
      /** @param {GrammarSymbols<string>} $ */
      $ => seq(
        field('name', names.length === 1 ? names[0] : choice(...names)),
        '=',
        field('value', $._parameter_value),
      ),
    ])),
  },
});
