//! Node kind names of the KQL grammar, for matching on `Node::kind()`.
//!
//! Each constant equals the kind string tree-sitter reports. Hidden rules (names starting with
//! `_`) never appear in a tree and are not listed. The fields of each kind are documented in
//! `grammars/tree-sitter-kql/NODES.md`.

pub const ALIAS_STATEMENT: &str = "alias_statement";
pub const ARGUMENT_LIST: &str = "argument_list";
pub const AS_OPERATOR: &str = "as_operator";
pub const ASSIGNMENT: &str = "assignment";
pub const BETWEEN_EXPRESSION: &str = "between_expression";
pub const BINARY_EXPRESSION: &str = "binary_expression";
pub const BLOCK_SEPARATOR: &str = "block_separator";
pub const BOOL_LITERAL: &str = "bool_literal";
pub const BRACKETED_NAME: &str = "bracketed_name";
pub const CALL_EXPRESSION: &str = "call_expression";
pub const COLUMN_DECLARATION: &str = "column_declaration";
pub const COMMENT: &str = "comment";
pub const CONSUME_OPERATOR: &str = "consume_operator";
pub const COUNT_OPERATOR: &str = "count_operator";
pub const DATATABLE_EXPRESSION: &str = "datatable_expression";
pub const DATETIME_LITERAL: &str = "datetime_literal";
pub const DECLARE_QUERY_PARAMETERS_STATEMENT: &str = "declare_query_parameters_statement";
pub const DISTINCT_OPERATOR: &str = "distinct_operator";
pub const DYNAMIC_LITERAL: &str = "dynamic_literal";
pub const EVALUATE_OPERATOR: &str = "evaluate_operator";
pub const EXPRESSION_LIST: &str = "expression_list";
pub const EXTEND_OPERATOR: &str = "extend_operator";
pub const EXTERNALDATA_EXPRESSION: &str = "externaldata_expression";
pub const FACET_OPERATOR: &str = "facet_operator";
pub const FIND_OPERATOR: &str = "find_operator";
pub const FORK_BRANCH: &str = "fork_branch";
pub const FORK_OPERATOR: &str = "fork_operator";
pub const FUNCTION_BODY: &str = "function_body";
pub const GETSCHEMA_OPERATOR: &str = "getschema_operator";
pub const GRAPH_EDGE: &str = "graph_edge";
pub const GRAPH_MATCH_OPERATOR: &str = "graph_match_operator";
pub const GRAPH_NODE: &str = "graph_node";
pub const GRAPH_PATTERN: &str = "graph_pattern";
pub const GUID_LITERAL: &str = "guid_literal";
pub const HINT_NAME: &str = "hint_name";
pub const IDENTIFIER: &str = "identifier";
pub const IN_EXPRESSION: &str = "in_expression";
pub const INDEX_EXPRESSION: &str = "index_expression";
pub const INTEGER_LITERAL: &str = "integer_literal";
pub const INVOKE_OPERATOR: &str = "invoke_operator";
pub const JOIN_OPERATOR: &str = "join_operator";
pub const JSON_ARRAY: &str = "json_array";
pub const JSON_NULL: &str = "json_null";
pub const JSON_NUMBER: &str = "json_number";
pub const JSON_OBJECT: &str = "json_object";
pub const JSON_PAIR: &str = "json_pair";
pub const LAMBDA_EXPRESSION: &str = "lambda_expression";
pub const LET_STATEMENT: &str = "let_statement";
pub const LOOKUP_OPERATOR: &str = "lookup_operator";
pub const MACRO_EXPAND_OPERATOR: &str = "macro_expand_operator";
pub const MAKE_GRAPH_OPERATOR: &str = "make_graph_operator";
pub const MAKE_SERIES_AGGREGATE: &str = "make_series_aggregate";
pub const MAKE_SERIES_OPERATOR: &str = "make_series_operator";
pub const MEMBER_EXPRESSION: &str = "member_expression";
pub const MV_APPLY_OPERATOR: &str = "mv_apply_operator";
pub const MV_COLUMN: &str = "mv_column";
pub const MV_EXPAND_OPERATOR: &str = "mv_expand_operator";
pub const NAME_LIST: &str = "name_list";
pub const NAMED_ARGUMENT: &str = "named_argument";
pub const OPERATOR_PARAMETER: &str = "operator_parameter";
pub const OPERATOR_PIPELINE: &str = "operator_pipeline";
pub const OPTION_NAME: &str = "option_name";
pub const PARAMETER: &str = "parameter";
pub const PARAMETER_LIST: &str = "parameter_list";
pub const PARENTHESIZED_EXPRESSION: &str = "parenthesized_expression";
pub const PARSE_COLUMN: &str = "parse_column";
pub const PARSE_KV_OPERATOR: &str = "parse_kv_operator";
pub const PARSE_OPERATOR: &str = "parse_operator";
pub const PARSE_WHERE_OPERATOR: &str = "parse_where_operator";
pub const PARTITION_OPERATOR: &str = "partition_operator";
pub const PATTERN_MAPPING: &str = "pattern_mapping";
pub const PATTERN_STATEMENT: &str = "pattern_statement";
pub const PIPE_EXPRESSION: &str = "pipe_expression";
pub const PRINT_OPERATOR: &str = "print_operator";
pub const PROJECT_AWAY_OPERATOR: &str = "project_away_operator";
pub const PROJECT_KEEP_OPERATOR: &str = "project_keep_operator";
pub const PROJECT_OPERATOR: &str = "project_operator";
pub const PROJECT_RENAME_OPERATOR: &str = "project_rename_operator";
pub const PROJECT_REORDER_OPERATOR: &str = "project_reorder_operator";
pub const QUERY_BLOCK: &str = "query_block";
pub const QUERY_STATEMENT: &str = "query_statement";
pub const RANGE_OPERATOR: &str = "range_operator";
pub const REAL_LITERAL: &str = "real_literal";
pub const REDUCE_OPERATOR: &str = "reduce_operator";
pub const RENDER_OPERATOR: &str = "render_operator";
pub const REORDER_COLUMN: &str = "reorder_column";
pub const RESTRICT_STATEMENT: &str = "restrict_statement";
pub const SAMPLE_DISTINCT_OPERATOR: &str = "sample_distinct_operator";
pub const SAMPLE_OPERATOR: &str = "sample_operator";
pub const SCAN_OPERATOR: &str = "scan_operator";
pub const SCAN_STEP: &str = "scan_step";
pub const SEARCH_OPERATOR: &str = "search_operator";
pub const SERIALIZE_OPERATOR: &str = "serialize_operator";
pub const SET_STATEMENT: &str = "set_statement";
pub const SORT_EXPRESSION: &str = "sort_expression";
pub const SORT_OPERATOR: &str = "sort_operator";
pub const SOURCE_FILE: &str = "source_file";
pub const STAR: &str = "star";
pub const STRING_LITERAL: &str = "string_literal";
pub const SUMMARIZE_OPERATOR: &str = "summarize_operator";
pub const TABULAR_TYPE: &str = "tabular_type";
pub const TAKE_OPERATOR: &str = "take_operator";
pub const TIMESPAN_LITERAL: &str = "timespan_literal";
pub const TOP_HITTERS_OPERATOR: &str = "top_hitters_operator";
pub const TOP_NESTED_CLAUSE: &str = "top_nested_clause";
pub const TOP_NESTED_OPERATOR: &str = "top_nested_operator";
pub const TOP_OPERATOR: &str = "top_operator";
pub const TYPE_NAME: &str = "type_name";
pub const TYPED_LITERAL: &str = "typed_literal";
pub const TYPEOF_LITERAL: &str = "typeof_literal";
pub const UNARY_EXPRESSION: &str = "unary_expression";
pub const UNION_OPERATOR: &str = "union_operator";
pub const VIEW_EXPRESSION: &str = "view_expression";
pub const WHERE_OPERATOR: &str = "where_operator";
pub const WILDCARD_NAME: &str = "wildcard_name";

/// Every named node kind, in alphabetical order.
pub const ALL: &[&str] = &[
    ALIAS_STATEMENT,
    ARGUMENT_LIST,
    AS_OPERATOR,
    ASSIGNMENT,
    BETWEEN_EXPRESSION,
    BINARY_EXPRESSION,
    BLOCK_SEPARATOR,
    BOOL_LITERAL,
    BRACKETED_NAME,
    CALL_EXPRESSION,
    COLUMN_DECLARATION,
    COMMENT,
    CONSUME_OPERATOR,
    COUNT_OPERATOR,
    DATATABLE_EXPRESSION,
    DATETIME_LITERAL,
    DECLARE_QUERY_PARAMETERS_STATEMENT,
    DISTINCT_OPERATOR,
    DYNAMIC_LITERAL,
    EVALUATE_OPERATOR,
    EXPRESSION_LIST,
    EXTEND_OPERATOR,
    EXTERNALDATA_EXPRESSION,
    FACET_OPERATOR,
    FIND_OPERATOR,
    FORK_BRANCH,
    FORK_OPERATOR,
    FUNCTION_BODY,
    GETSCHEMA_OPERATOR,
    GRAPH_EDGE,
    GRAPH_MATCH_OPERATOR,
    GRAPH_NODE,
    GRAPH_PATTERN,
    GUID_LITERAL,
    HINT_NAME,
    IDENTIFIER,
    IN_EXPRESSION,
    INDEX_EXPRESSION,
    INTEGER_LITERAL,
    INVOKE_OPERATOR,
    JOIN_OPERATOR,
    JSON_ARRAY,
    JSON_NULL,
    JSON_NUMBER,
    JSON_OBJECT,
    JSON_PAIR,
    LAMBDA_EXPRESSION,
    LET_STATEMENT,
    LOOKUP_OPERATOR,
    MACRO_EXPAND_OPERATOR,
    MAKE_GRAPH_OPERATOR,
    MAKE_SERIES_AGGREGATE,
    MAKE_SERIES_OPERATOR,
    MEMBER_EXPRESSION,
    MV_APPLY_OPERATOR,
    MV_COLUMN,
    MV_EXPAND_OPERATOR,
    NAME_LIST,
    NAMED_ARGUMENT,
    OPERATOR_PARAMETER,
    OPERATOR_PIPELINE,
    OPTION_NAME,
    PARAMETER,
    PARAMETER_LIST,
    PARENTHESIZED_EXPRESSION,
    PARSE_COLUMN,
    PARSE_KV_OPERATOR,
    PARSE_OPERATOR,
    PARSE_WHERE_OPERATOR,
    PARTITION_OPERATOR,
    PATTERN_MAPPING,
    PATTERN_STATEMENT,
    PIPE_EXPRESSION,
    PRINT_OPERATOR,
    PROJECT_AWAY_OPERATOR,
    PROJECT_KEEP_OPERATOR,
    PROJECT_OPERATOR,
    PROJECT_RENAME_OPERATOR,
    PROJECT_REORDER_OPERATOR,
    QUERY_BLOCK,
    QUERY_STATEMENT,
    RANGE_OPERATOR,
    REAL_LITERAL,
    REDUCE_OPERATOR,
    RENDER_OPERATOR,
    REORDER_COLUMN,
    RESTRICT_STATEMENT,
    SAMPLE_DISTINCT_OPERATOR,
    SAMPLE_OPERATOR,
    SCAN_OPERATOR,
    SCAN_STEP,
    SEARCH_OPERATOR,
    SERIALIZE_OPERATOR,
    SET_STATEMENT,
    SORT_EXPRESSION,
    SORT_OPERATOR,
    SOURCE_FILE,
    STAR,
    STRING_LITERAL,
    SUMMARIZE_OPERATOR,
    TABULAR_TYPE,
    TAKE_OPERATOR,
    TIMESPAN_LITERAL,
    TOP_HITTERS_OPERATOR,
    TOP_NESTED_CLAUSE,
    TOP_NESTED_OPERATOR,
    TOP_OPERATOR,
    TYPE_NAME,
    TYPED_LITERAL,
    TYPEOF_LITERAL,
    UNARY_EXPRESSION,
    UNION_OPERATOR,
    VIEW_EXPRESSION,
    WHERE_OPERATOR,
    WILDCARD_NAME,
];
