//! Turning a query tree into a polars lazy plan, one tabular operator at a time.

pub mod aggregate;
mod count;
mod expand;
pub mod expr;
pub mod functions;
mod memo;
mod operators;
mod parse_op;
mod rewrite;
mod series_count;
mod sources;
mod tabular;
pub mod types;
pub mod value;

use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::{
    DataFrame, DataType, DslPlan, Engine, Expr as PlExpr, IdxSize, IntoLazy as _, LazyFrame,
    PolarsResult, Schema, SortMultipleOptions, UniqueKeepStrategy, col, len,
};

use crate::EngineError;
use crate::ast::{
    Function, FunctionBody, Ident, Let, LetValue, Literal, NamedExpr, Operator, OperatorKind,
    Pipeline, Query, SortKey, Source,
};
use expr::{AggregateMode, Compiled, ExprCompiler, Scope, evaluate_constant};
use types::KqlType;

/// Looks up tables by name for the evaluator.
pub trait TableProvider {
    /// Returns the table, `Ok(None)` when no table has that name, or an error when loading failed.
    fn table(&self, name: &str) -> Result<Option<DataFrame>, EngineError>;

    /// Returns the names of all tables, for error messages and completion.
    fn table_names(&self) -> Result<Vec<String>, EngineError>;

    /// Returns the table as a lazy frame. Providers that read files lazily override it, so that
    /// polars pushes a query's filters and column selections down into the file reader.
    fn scan(&self, name: &str) -> Result<Option<LazyFrame>, EngineError> {
        Ok(self.table(name)?.map(|frame| frame.lazy()))
    }
}

/// The names bound by `let` statements, as seen by the statements and the query after them.
#[derive(Clone, Default)]
pub struct Bindings {
    pub scalars: HashMap<String, Compiled>,
    pub tables: HashMap<String, LazyFrame>,
    pub functions: HashMap<String, Function>,
}

/// Builds the lazy plan for `query`. `now_nanos` is the value of `now()` for the whole query.
pub fn plan_query(
    query: &Query,
    tables: &dyn TableProvider,
    now_nanos: i64,
) -> Result<LazyFrame, EngineError> {
    let planner = Planner { tables, now_nanos };
    let mut bindings = Bindings::default();
    planner.bind_lets(&query.lets, &mut bindings)?;
    let plan = planner.plan_pipeline(&query.pipeline, &bindings)?;
    if std::env::var_os(TRACE_PLAN_VARIABLE).is_some() {
        trace_plan(&plan);
    }
    Ok(plan)
}

/// The environment variable that makes [`plan_query`] print polars' optimized plan to
/// standard error, to check which columns and filters reach the file scan.
pub const TRACE_PLAN_VARIABLE: &str = "QUARRY_TRACE_PLAN";

/// The row count from which an in-memory table makes [`collect_plan`] use the streaming
/// engine. It is the default batch size of polars 0.55's streaming engine (100,000 rows).
const STREAMING_MIN_ROWS: usize = 100_000;

/// Runs `plan`, on polars' streaming engine when it reads a file scan or an in-memory table of
/// [`STREAMING_MIN_ROWS`] rows or more, and on the in-memory engine otherwise. The streaming
/// engine reads in batches, so group-by, top-N and joins over a large table hold their state
/// instead of every input row. Small tables stay on the in-memory engine because streaming
/// gains nothing on a single batch.
pub fn collect_plan(plan: LazyFrame) -> PolarsResult<DataFrame> {
    let engine = if needs_streaming(&plan) {
        Engine::Streaming
    } else {
        Engine::InMemory
    };
    // A plan built from one `LazyFrame` has one sink, so the result is a single frame.
    // `Multiple` comes only from `collect_all` over several plans.
    plan.collect_with_engine(engine)
        .map(|result| result.unwrap_single())
}

fn needs_streaming(plan: &LazyFrame) -> bool {
    (&plan.logical_plan).into_iter().any(|node| match node {
        DslPlan::Scan { .. } => true,
        DslPlan::DataFrameScan { df, .. } => df.height() >= STREAMING_MIN_ROWS,
        _ => false,
    })
}

fn trace_plan(plan: &LazyFrame) {
    match plan.describe_optimized_plan() {
        Ok(text) => eprintln!("{TRACE_PLAN_VARIABLE}: optimized plan:\n{text}"),
        Err(error) => eprintln!("{TRACE_PLAN_VARIABLE}: failed to optimize the plan: {error}"),
    }
}

/// Plans pipelines against one set of tables and one `now()`.
pub(crate) struct Planner<'a> {
    pub tables: &'a dyn TableProvider,
    pub now_nanos: i64,
}

impl Planner<'_> {
    /// Adds the `let` statements to `bindings` in order, so each can use the ones before it.
    fn bind_lets(&self, lets: &[Let], bindings: &mut Bindings) -> Result<(), EngineError> {
        let empty = Schema::default();
        for statement in lets {
            let name = statement.name.name.clone();
            match &statement.value {
                LetValue::Scalar(value) => {
                    // `let T2 = T;` names a table, not a scalar.
                    if let Some(other) = value.as_name()
                        && !bindings.scalars.contains_key(other)
                        && let Some(frame) = self.named_table(other, bindings)?
                    {
                        bindings.tables.insert(name, frame);
                        continue;
                    }
                    let scope = Scope {
                        schema: &empty,
                        lets: &bindings.scalars,
                        functions: &bindings.functions,
                        tables: &bindings.tables,
                        now_nanos: self.now_nanos,
                    };
                    let compiled =
                        ExprCompiler::new(&scope, AggregateMode::Forbidden).compile(value)?;
                    // Folding the value lets `take n` and `ago(span)` accept a `let` name as
                    // their constant.
                    let compiled = match evaluate_constant(&compiled) {
                        Some(literal) => Compiled::from_literal(&literal),
                        None => compiled,
                    };
                    bindings.scalars.insert(name, compiled);
                }
                LetValue::Tabular(pipeline) => {
                    let frame = self.plan_pipeline(pipeline, bindings)?;
                    bindings.tables.insert(name, frame);
                }
                LetValue::ToScalar(pipeline) => {
                    let literal =
                        self.to_scalar(pipeline, bindings, statement.name.range.clone())?;
                    bindings
                        .scalars
                        .insert(name, Compiled::from_literal(&literal));
                }
                LetValue::Function(function) => {
                    bindings.functions.insert(name, function.clone());
                }
            }
        }
        Ok(())
    }

    /// Runs `pipeline` and returns the first column of its first row, or null when it has no
    /// rows, as `toscalar()` does.
    fn to_scalar(
        &self,
        pipeline: &Pipeline,
        bindings: &Bindings,
        range: Range<usize>,
    ) -> Result<Literal, EngineError> {
        let frame =
            collect_plan(self.plan_pipeline(pipeline, bindings)?.limit(1)).map_err(|error| {
                EngineError::at(
                    format!("the `toscalar()` subquery failed: {error}"),
                    range.clone(),
                )
            })?;
        let Some(column) = frame.columns().first() else {
            return Ok(Literal::Null);
        };
        if column.is_empty() {
            return Ok(Literal::Null);
        }
        let cell = column
            .get(0)
            .map_err(|error| EngineError::at(format!("`toscalar()` failed: {error}"), range))?;
        Ok(value_to_literal(value::from_any_value(&cell)))
    }

    /// Returns a tabular `let` name or a table of the data source.
    fn named_table(
        &self,
        name: &str,
        bindings: &Bindings,
    ) -> Result<Option<LazyFrame>, EngineError> {
        if let Some(frame) = bindings.tables.get(name) {
            return Ok(Some(frame.clone()));
        }
        self.tables.scan(name)
    }

    fn plan_source(&self, source: &Source, bindings: &Bindings) -> Result<LazyFrame, EngineError> {
        match source {
            Source::Table(name) => match self.named_table(&name.name, bindings)? {
                Some(frame) => Ok(frame),
                None => Err(unknown_table(name, self.tables)),
            },
            Source::Call { name, args } => self.call_tabular_function(name, args, None, bindings),
            Source::Datatable {
                columns,
                values,
                range,
            } => sources::datatable(columns, values, range.clone(), bindings, self.now_nanos),
            Source::Print(columns) => sources::print(columns, bindings, self.now_nanos),
            Source::Empty => Ok(DataFrame::empty().lazy()),
            Source::Range {
                name,
                from,
                to,
                step,
            } => sources::range(name, from, to, step, bindings, self.now_nanos),
        }
    }

    /// Plans a call of a tabular function bound by `let`: its parameters become scalar
    /// bindings of the call's arguments, then its body is planned.
    pub(crate) fn call_tabular_function(
        &self,
        name: &Ident,
        args: &[crate::ast::Expr],
        input: Option<LazyFrame>,
        bindings: &Bindings,
    ) -> Result<LazyFrame, EngineError> {
        let Some(function) = bindings.functions.get(&name.name) else {
            if let Some(frame) = self.named_table(&name.name, bindings)?
                && args.is_empty()
            {
                return Ok(frame);
            }
            return Err(EngineError::at(
                format!("unknown tabular function `{}`", name.name),
                name.range.clone(),
            ));
        };
        let FunctionBody::Tabular(body) = &function.body else {
            return Err(EngineError::at(
                format!("`{}` returns a scalar, not a table", name.name),
                name.range.clone(),
            ));
        };
        let empty = Schema::default();
        let mut inner = bindings.clone();
        let mut input = input;
        let mut args = args.iter();
        for parameter in &function.parameters {
            let parameter_name = parameter.name.name.clone();
            if parameter.tabular {
                // `invoke` passes its input as the first tabular parameter.
                if let Some(frame) = input.take() {
                    inner.tables.insert(parameter_name, frame);
                    continue;
                }
                let Some(arg) = args.next() else {
                    return Err(EngineError::at(
                        format!(
                            "missing table argument `{parameter_name}` of `{}`",
                            name.name
                        ),
                        name.range.clone(),
                    ));
                };
                let table = arg
                    .as_name()
                    .map(|table| self.named_table(table, bindings))
                    .transpose()?
                    .flatten()
                    .ok_or_else(|| {
                        EngineError::at("expected a table name here", arg.range.clone())
                    })?;
                inner.tables.insert(parameter_name, table);
                continue;
            }
            let value = match (args.next(), &parameter.default) {
                (Some(arg), _) | (None, Some(arg)) => arg,
                (None, None) => {
                    return Err(EngineError::at(
                        format!("missing argument `{parameter_name}` of `{}`", name.name),
                        name.range.clone(),
                    ));
                }
            };
            let scope = Scope {
                schema: &empty,
                lets: &bindings.scalars,
                functions: &bindings.functions,
                tables: &bindings.tables,
                now_nanos: self.now_nanos,
            };
            let compiled = ExprCompiler::new(&scope, AggregateMode::Forbidden).compile(value)?;
            inner.scalars.insert(parameter_name, compiled);
        }
        if let Some(extra) = args.next() {
            return Err(EngineError::at(
                format!("too many arguments for `{}`", name.name),
                extra.range.clone(),
            ));
        }
        self.bind_lets(&function.lets, &mut inner)?;
        self.plan_pipeline(body, &inner)
    }

    fn plan_pipeline(
        &self,
        pipeline: &Pipeline,
        bindings: &Bindings,
    ) -> Result<LazyFrame, EngineError> {
        let mut frame = self.plan_source(&pipeline.source, bindings)?;
        let mut skip_next = false;
        for (position, operator) in pipeline.operators.iter().enumerate() {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            let schema = current_schema(&mut frame, operator.range.clone())?;
            if let Some(rewritten) = rewrite::count_inputs_first(
                operator,
                pipeline.operators.get(position + 1),
                &schema,
                &bindings.functions,
            ) {
                // The rewritten operators replace this one and the `summarize` after it.
                skip_next = true;
                let rest = &pipeline.operators[position + 2..];
                let mut rewritten_pipeline = Pipeline {
                    source: Source::Empty,
                    operators: rewritten.to_vec(),
                };
                rewritten_pipeline.operators.extend_from_slice(rest);
                for (index, step) in rewritten.iter().enumerate() {
                    let schema = current_schema(&mut frame, step.range.clone())?;
                    let scope = Scope {
                        schema: &schema,
                        lets: &bindings.scalars,
                        functions: &bindings.functions,
                        tables: &bindings.tables,
                        now_nanos: self.now_nanos,
                    };
                    let after = &rewritten_pipeline.operators[index + 1..];
                    frame = match rewrite::expand_split_as_text(step, after, &bindings.functions) {
                        Some(step) => apply_operator(frame, &step, &scope)?,
                        None => apply_operator(frame, step, &scope)?,
                    };
                }
                continue;
            }
            frame = match &operator.kind {
                OperatorKind::Union {
                    outer,
                    withsource,
                    tables: others,
                } => {
                    // NOTE: when operators ran before `union`, its input is assumed to be named
                    // `union_arg0`, as Kusto names other table expressions.
                    let label = match (position, pipeline.source.table_name()) {
                        (0, Some(name)) => name.name.clone(),
                        _ => "union_arg0".to_owned(),
                    };
                    // An empty source (a query that starts with `union`) adds no input.
                    let mut inputs = Vec::new();
                    if !(position == 0 && pipeline.source == Source::Empty) {
                        inputs.push((label, frame));
                    }
                    for (label, other) in others {
                        match other.source.table_name() {
                            Some(name) if name.name.contains('*') => {
                                for table in self.matching_tables(name, bindings)? {
                                    let frame = self
                                        .named_table(&table, bindings)?
                                        .ok_or_else(|| unknown_table(name, self.tables))?;
                                    inputs.push((table, frame));
                                }
                            }
                            _ => inputs.push((label.clone(), self.plan_pipeline(other, bindings)?)),
                        }
                    }
                    tabular::union(inputs, *outer, withsource.as_ref(), operator.range.clone())?
                }
                OperatorKind::Join { kind, right, keys } => {
                    let right = self.plan_pipeline(right, bindings)?;
                    tabular::join(frame, right, *kind, keys, operator.range.clone())?
                }
                OperatorKind::Lookup { inner, right, keys } => {
                    let right = self.plan_pipeline(right, bindings)?;
                    tabular::lookup(frame, right, *inner, keys, operator.range.clone())?
                }
                OperatorKind::Invoke { name, args } => {
                    self.call_tabular_function(name, args, Some(frame), bindings)?
                }
                _ => {
                    let scope = Scope {
                        schema: &schema,
                        lets: &bindings.scalars,
                        functions: &bindings.functions,
                        tables: &bindings.tables,
                        now_nanos: self.now_nanos,
                    };
                    let rest = &pipeline.operators[position + 1..];
                    match rewrite::expand_split_as_text(operator, rest, &bindings.functions) {
                        Some(rewritten) => apply_operator(frame, &rewritten, &scope)?,
                        None => apply_operator(frame, operator, &scope)?,
                    }
                }
            };
        }
        Ok(frame)
    }

    /// Expands a wildcard table name such as `Sec*` into the names of the tables it matches.
    fn matching_tables(
        &self,
        pattern: &Ident,
        bindings: &Bindings,
    ) -> Result<Vec<String>, EngineError> {
        let mut names = self.tables.table_names()?;
        names.extend(bindings.tables.keys().cloned());
        names.sort();
        names.dedup();
        let matched: Vec<String> = names
            .into_iter()
            .filter(|name| wildcard_matches(&pattern.name, name))
            .collect();
        if matched.is_empty() {
            return Err(EngineError::at(
                format!("no table matches `{}`", pattern.name),
                pattern.range.clone(),
            ));
        }
        Ok(matched)
    }
}

/// Matches `name` against a pattern where `*` stands for any run of characters.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Returns the text of a non-string literal, as `tostring()` writes it.
pub(crate) fn value_to_literal_text(literal: Literal) -> String {
    use value::Value;
    let value = match literal {
        Literal::Null => Value::Null,
        Literal::Bool(flag) => Value::Bool(flag),
        Literal::Long(n) => Value::Long(n),
        Literal::Real(x) => Value::Real(x),
        Literal::String(text) => Value::String(text),
        Literal::Datetime(n) => Value::Datetime(n),
        Literal::Timespan(n) => Value::Timespan(n),
        Literal::Dynamic(json) => Value::Dynamic(json),
    };
    value.to_text()
}

/// Converts a value read back from a frame into a literal.
pub(crate) fn value_to_literal(value: value::Value) -> Literal {
    use value::Value;
    match value {
        Value::Null => Literal::Null,
        Value::Bool(flag) => Literal::Bool(flag),
        Value::Long(n) => Literal::Long(n),
        Value::Real(x) => Literal::Real(x),
        Value::String(text) => Literal::String(text),
        Value::Datetime(n) => Literal::Datetime(n),
        Value::Timespan(n) => Literal::Timespan(n),
        Value::Dynamic(json) => Literal::Dynamic(json),
    }
}

pub(crate) fn unknown_table(source: &Ident, tables: &dyn TableProvider) -> EngineError {
    let names = tables.table_names().unwrap_or_default();
    let listed = if names.is_empty() {
        "the data source has no tables".to_owned()
    } else {
        let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
        let more = if names.len() > shown.len() {
            ", ..."
        } else {
            ""
        };
        format!("available tables: {}{more}", shown.join(", "))
    };
    EngineError::at(
        format!("unknown table `{}`; {listed}", source.name),
        source.range.clone(),
    )
}

fn current_schema(frame: &mut LazyFrame, range: Range<usize>) -> Result<Schema, EngineError> {
    frame
        .collect_schema()
        .map(|schema| schema.as_ref().clone())
        .map_err(|error| {
            EngineError::at(
                format!("the query before this operator is invalid: {error}"),
                range,
            )
        })
}

/// Returns `base` followed by the first number from 1 that gives a name not in `taken`.
pub fn unique_name(base: &str, taken: &[String]) -> String {
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unbounded range always has an unused name")
}

pub(crate) fn apply_operator(
    frame: LazyFrame,
    operator: &Operator,
    scope: &Scope<'_>,
) -> Result<LazyFrame, EngineError> {
    let compiler = ExprCompiler::new(scope, AggregateMode::Forbidden);
    match &operator.kind {
        OperatorKind::Where(predicate) => {
            let compiled = compiler.compile(predicate)?;
            if compiled.ty != KqlType::Bool && compiled.ty != KqlType::Null {
                return Err(EngineError::at(
                    format!(
                        "`where` needs a bool condition, but this expression is a {}",
                        compiled.ty.name()
                    ),
                    predicate.range.clone(),
                ));
            }
            if let Some(staged) = filter_scan_in_stages(&frame, predicate, &compiler)? {
                return Ok(staged);
            }
            Ok(frame.filter(compiled.expr))
        }
        OperatorKind::Project(columns) => {
            let exprs = named_exprs(&compiler, columns, scope, false)?;
            // `select` would make one row of a projection of constants only; computing the
            // columns with `with_columns` first repeats constants for every input row.
            let taken: Vec<String> = scope.schema.iter_names().map(|n| n.to_string()).collect();
            let mut staged = Vec::with_capacity(exprs.len());
            let mut outputs = Vec::with_capacity(exprs.len());
            for (index, (output, expr)) in exprs.into_iter().enumerate() {
                let temporary = unique_name(&format!("__project{index}_"), &taken);
                staged.push(expr.alias(temporary.as_str()));
                outputs.push(col(temporary.as_str()).alias(output.as_str()));
            }
            Ok(frame.with_columns(staged).select(outputs))
        }
        OperatorKind::ProjectAway(columns) => {
            let removed = operators::match_columns(scope.schema, columns)?;
            let kept: Vec<PlExpr> = scope
                .schema
                .iter_names()
                .filter(|name| !removed.iter().any(|r| r == name.as_str()))
                .map(|name| col(name.clone()))
                .collect();
            Ok(frame.select(kept))
        }
        OperatorKind::ProjectRename(pairs) => {
            for (_, old) in pairs {
                require_column(scope, old)?;
            }
            let renamed: Vec<PlExpr> = scope
                .schema
                .iter_names()
                .map(
                    |name| match pairs.iter().find(|(_, old)| old.name == name.as_str()) {
                        Some((new, _)) => col(name.clone()).alias(new.name.as_str()),
                        None => col(name.clone()),
                    },
                )
                .collect();
            Ok(frame.select(renamed))
        }
        OperatorKind::Extend(columns) => extend(frame, columns, scope),
        OperatorKind::Summarize { aggregates, by } => {
            aggregate::summarize(frame, scope, aggregates, by, operator.range.clone())
        }
        OperatorKind::Sort(keys) => sort(frame, &compiler, keys),
        OperatorKind::Take(count) => {
            let n = constant_count(&compiler, count, "take")?;
            Ok(frame.limit(n))
        }
        OperatorKind::Top { count, key } => {
            let n = constant_count(&compiler, count, "top")?;
            // A key that reads other rows, such as `row_number()`, would change once the
            // threshold filter drops rows.
            let frame = if rewrite::calls_any(&key.expr, scope.functions) {
                frame
            } else {
                keep_rows_that_can_rank(frame, &compiler, key, n, &operator.range)?
            };
            Ok(sort(frame, &compiler, std::slice::from_ref(key))?.limit(n))
        }
        OperatorKind::Distinct(columns) => {
            if columns.is_empty() {
                return Ok(frame.unique_stable(None, UniqueKeepStrategy::First));
            }
            let exprs: Vec<PlExpr> = named_exprs(&compiler, columns, scope, false)?
                .into_iter()
                .map(|(_, expr)| expr)
                .collect();
            Ok(frame
                .select(exprs)
                .unique_stable(None, UniqueKeepStrategy::First))
        }
        OperatorKind::Count => Ok(frame.select([len().cast(DataType::Int64).alias("Count")])),
        OperatorKind::Union { .. }
        | OperatorKind::Join { .. }
        | OperatorKind::Lookup { .. }
        | OperatorKind::Invoke { .. } => {
            unreachable!("plan_pipeline applies the operators that read other tables")
        }
        OperatorKind::MvExpand {
            columns,
            bag_as_array,
            item_index,
            limit,
        } => expand::mv_expand(
            frame,
            scope,
            columns,
            *bag_as_array,
            item_index.as_ref(),
            limit.as_ref(),
        ),
        OperatorKind::MvApply {
            columns,
            item_index,
            subquery,
        } => expand::mv_apply(frame, scope, columns, item_index.as_ref(), subquery),
        OperatorKind::Parse {
            source,
            kind,
            items,
            keep_unmatched,
        } => parse_op::parse(frame, scope, source, *kind, items, *keep_unmatched),
        OperatorKind::Serialize(columns) => extend(frame, columns, scope),
        OperatorKind::ParseKv {
            source,
            columns,
            pair_delimiter,
            kv_delimiter,
            quotes,
        } => parse_op::parse_kv(
            frame,
            scope,
            source,
            columns,
            parse_op::KvDelimiters {
                pair: pair_delimiter.clone(),
                key_value: kv_delimiter.clone(),
                quotes: quotes.clone(),
            },
        ),
        OperatorKind::ProjectKeep(names) => {
            let kept = operators::match_columns(scope.schema, names)?;
            let kept: Vec<PlExpr> = scope
                .schema
                .iter_names()
                .filter(|name| kept.iter().any(|k| k == name.as_str()))
                .map(|name| col(name.clone()))
                .collect();
            Ok(frame.select(kept))
        }
        OperatorKind::ProjectReorder(names) => {
            let first = operators::match_columns(scope.schema, names)?;
            let mut order: Vec<PlExpr> = first.iter().map(|name| col(name.as_str())).collect();
            order.extend(
                scope
                    .schema
                    .iter_names()
                    .filter(|name| !first.iter().any(|f| f == name.as_str()))
                    .map(|name| col(name.clone())),
            );
            Ok(frame.select(order))
        }
        OperatorKind::Getschema => operators::getschema(scope.schema),
        OperatorKind::Sample(count) => {
            let n = constant_count(&compiler, count, "sample")?;
            operators::sample(frame, scope, n)
        }
        OperatorKind::BagUnpack { column, prefix } => operators::bag_unpack(
            frame,
            scope,
            column,
            prefix.as_deref(),
            operator.range.clone(),
        ),
        OperatorKind::MakeSeries {
            aggregates,
            axis,
            from,
            to,
            step,
            by,
        } => operators::make_series(
            frame,
            scope,
            operators::MakeSeries {
                aggregates,
                axis,
                from: from.as_ref(),
                to: to.as_ref(),
                step,
                by,
            },
            operator.range.clone(),
        ),
        OperatorKind::TopNested(clauses) => {
            operators::top_nested(frame, scope, clauses, operator.range.clone())
        }
        OperatorKind::Search {
            predicate,
            case_sensitive,
        } => operators::search(frame, scope, predicate, *case_sensitive),
        OperatorKind::As(_) => Ok(frame),
        OperatorKind::Unsupported(name) => Err(EngineError::at(
            format!("the `{name}` operator is not supported by the local engine yet"),
            operator.range.clone(),
        )),
    }
}

fn require_column(scope: &Scope<'_>, column: &Ident) -> Result<(), EngineError> {
    if scope.schema.contains(&column.name) {
        Ok(())
    } else {
        Err(EngineError::at(
            format!("unknown column `{}`", column.name),
            column.range.clone(),
        ))
    }
}

/// Compiles `name = expr` items, naming unnamed computed columns `Column1`, `Column2` and so on.
fn named_exprs(
    compiler: &ExprCompiler<'_>,
    columns: &[NamedExpr],
    scope: &Scope<'_>,
    avoid_existing: bool,
) -> Result<Vec<(String, PlExpr)>, EngineError> {
    let mut taken: Vec<String> = if avoid_existing {
        scope.schema.iter_names().map(|n| n.to_string()).collect()
    } else {
        Vec::new()
    };
    let mut outputs: Vec<String> = Vec::new();
    let mut exprs = Vec::with_capacity(columns.len());
    for column in columns {
        let compiled = compiler.compile(&column.expr)?;
        let name = match (&column.name, column.expr.as_name()) {
            (Some(ident), _) => ident.name.clone(),
            (None, Some(name)) => name.to_owned(),
            (None, None) => unique_name("Column", &taken),
        };
        if outputs.contains(&name) {
            return Err(EngineError::at(
                format!("the column `{name}` appears twice"),
                column.expr.range.clone(),
            ));
        }
        taken.push(name.clone());
        outputs.push(name.clone());
        exprs.push((name.clone(), compiled.output_expr().alias(name)));
    }
    Ok(exprs)
}

/// Applies `extend`: each column is added in turn, so later items can use earlier ones.
pub(crate) fn extend(
    mut frame: LazyFrame,
    columns: &[NamedExpr],
    scope: &Scope<'_>,
) -> Result<LazyFrame, EngineError> {
    let mut schema = scope.schema.clone();
    for column in columns {
        let inner = Scope {
            schema: &schema,
            lets: scope.lets,
            functions: scope.functions,
            tables: scope.tables,
            now_nanos: scope.now_nanos,
        };
        let compiler = ExprCompiler::new(&inner, AggregateMode::Forbidden);
        let compiled = compiler.compile(&column.expr)?;
        let name = match &column.name {
            Some(ident) => ident.name.clone(),
            None => {
                let taken: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
                unique_name("Column", &taken)
            }
        };
        let ty = compiled.ty;
        frame = frame.with_columns([compiled.output_expr().alias(name.as_str())]);
        schema.with_column(name.into(), ty.to_polars());
    }
    Ok(frame)
}

fn sort(
    frame: LazyFrame,
    compiler: &ExprCompiler<'_>,
    keys: &[SortKey],
) -> Result<LazyFrame, EngineError> {
    let mut exprs = Vec::with_capacity(keys.len());
    let mut descending = Vec::with_capacity(keys.len());
    let mut nulls_last = Vec::with_capacity(keys.len());
    for key in keys {
        exprs.push(compiler.compile(&key.expr)?.expr);
        descending.push(key.descending);
        // Kusto puts nulls last when sorting descending and first when ascending.
        nulls_last.push(match key.nulls_first {
            Some(first) => !first,
            None => key.descending,
        });
    }
    let options = SortMultipleOptions::default()
        .with_order_descending_multi(descending)
        .with_nulls_last_multi(nulls_last)
        .with_maintain_order(true);
    Ok(frame.sort_by_exprs(exprs, options))
}

/// The largest `top` count for which [`keep_rows_that_can_rank`] looks for a threshold.
const TOP_THRESHOLD_MAX_ROWS: IdxSize = 10_000;

/// Filters the input of `top n by key` to the rows whose key is at least the nth largest, or
/// at most the nth smallest for `asc`. A file scan then reads the other columns only for those
/// rows, because Parquet row groups whose statistics lie below the threshold are skipped and
/// the reader decodes the remaining columns only where the key passes.
///
/// The threshold comes from a first run of the same input that reads only the key. That run
/// repeats the input's work, so this applies only when the input reads files or tables through
/// filters and column expressions, to integer, datetime and timespan keys whose nulls sort
/// last, and when at least `n` rows have a key. Ties at the threshold all pass, so `top` picks
/// among them as it would without the filter.
fn keep_rows_that_can_rank(
    frame: LazyFrame,
    compiler: &ExprCompiler<'_>,
    key: &SortKey,
    n: IdxSize,
    range: &Range<usize>,
) -> Result<LazyFrame, EngineError> {
    let nulls_last = key.nulls_first.map_or(key.descending, |first| !first);

    if n == 0 || n > TOP_THRESHOLD_MAX_ROWS || !nulls_last || !reads_input_directly(&frame) {
        return Ok(frame);
    }

    let compiled = compiler.compile(&key.expr)?;

    // A random key would be drawn again after the threshold is taken.
    if !matches!(
        compiled.ty,
        KqlType::Int | KqlType::Long | KqlType::Datetime | KqlType::Timespan
    ) || value::draws_random(&compiled.expr)
    {
        return Ok(frame);
    }
    const KEY: &str = "__quarry_top_key";

    let options = SortMultipleOptions::default()
        .with_order_descending(key.descending)
        .with_nulls_last(true);

    let ranked = frame
        .clone()
        .select([compiled.expr.clone().alias(KEY)])
        .filter(col(KEY).is_not_null())
        .sort([KEY], options)
        .limit(n);

    let ranked = collect_plan(ranked).map_err(|error| {
        EngineError::at(
            format!("`top` failed while running: {error}"),
            range.clone(),
        )
    })?;

    if (ranked.height() as IdxSize) < n {
        return Ok(frame);
    }

    let Some(last) = ranked
        .column(KEY)
        .ok()
        .and_then(|column| column.get(ranked.height() - 1).ok())
    else {
        return Ok(frame);
    };

    let threshold = match value::from_any_value(&last) {
        value::Value::Long(n) => Literal::Long(n),
        value::Value::Datetime(n) => Literal::Datetime(n),
        value::Value::Timespan(n) => Literal::Timespan(n),
        _ => return Ok(frame),
    };

    let threshold = Compiled::from_literal(&threshold).expr;

    let passes = if key.descending {
        compiled.expr.gt_eq(threshold)
    } else {
        compiled.expr.lt_eq(threshold)
    };
    Ok(frame.filter(passes))
}

/// Filters a Parquet scan by `a and b and ...` in two stages when `b` and the rest read columns
/// that `a` does not: the scan filters by `a` alone, then `b` and the rest filter the rows that
/// remain. Polars' Parquet reader decodes every column of the scan's condition for all rows,
/// but the other columns only for the rows that pass it, so a selective first term spares the
/// decoding of the rest. Returns `None` for other conditions and inputs.
// NOTE: The terms are taken in the order written, so a selective first term gains the most.
// On the benchmark data, a first term that passes most rows cost about as much as one stage.
fn filter_scan_in_stages(
    frame: &LazyFrame,
    predicate: &crate::ast::Expr,
    compiler: &ExprCompiler<'_>,
) -> Result<Option<LazyFrame>, EngineError> {
    use crate::ast::{BinaryOp, ExprKind};
    use polars::prelude::{FileScanDsl, OptFlags};

    fn names<'a>(expr: &'a crate::ast::Expr, found: &mut Vec<&'a str>) {
        match &expr.kind {
            ExprKind::Name(name) => found.push(name),
            _ => expr
                .children()
                .into_iter()
                .for_each(|child| names(child, found)),
        }
    }

    let terms: Vec<&crate::ast::Expr> = match &predicate.kind {
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => vec![lhs, rhs],
        ExprKind::Chain {
            op: BinaryOp::And,
            operands,
        } => operands.iter().collect(),
        _ => return Ok(None),
    };
    let mut parquet = false;
    let direct = (&frame.logical_plan).into_iter().all(|node| match node {
        DslPlan::Scan { scan_type, .. } => {
            parquet |= matches!(**scan_type, FileScanDsl::Parquet { .. });
            true
        }
        DslPlan::Filter { .. }
        | DslPlan::Select { .. }
        | DslPlan::HStack { .. }
        | DslPlan::Union { .. }
        | DslPlan::IR { .. } => true,
        _ => false,
    });
    if !parquet || !direct || terms.len() < 2 {
        return Ok(None);
    }
    let mut first_columns = Vec::new();
    names(terms[0], &mut first_columns);
    let mut rest_columns = Vec::new();
    for term in &terms[1..] {
        names(term, &mut rest_columns);
    }
    if rest_columns.iter().all(|name| first_columns.contains(name)) {
        return Ok(None);
    }
    let first = compiler.compile(terms[0])?.expr;
    let rest = terms[1..]
        .iter()
        .map(|term| compiler.compile(term).map(|compiled| compiled.expr))
        .collect::<Result<Vec<_>, _>>()?;
    if value::draws_random(&first) || rest.iter().any(value::draws_random) {
        return Ok(None);
    }
    let Some(rest) = rest.into_iter().reduce(PlExpr::and) else {
        return Ok(None);
    };
    // The map passes its batches on unchanged. It lets column selections through to the scan
    // but stops conditions there, so `rest` stays above the scan.
    let staged = frame
        .clone()
        .filter(first)
        .map(
            Ok,
            OptFlags::PROJECTION_PUSHDOWN | OptFlags::SLICE_PUSHDOWN | OptFlags::STREAMING,
            None,
            Some("filter in stages"),
        )
        .filter(rest);
    Ok(Some(staged))
}

/// Returns whether `frame` reads its tables through filters and column expressions only, so
/// that running it twice costs two reads and nothing more. A plan that draws random values,
/// as `where rand() < 0.1` does, gives other rows on each run, so it returns `false`.
fn reads_input_directly(frame: &LazyFrame) -> bool {
    (&frame.logical_plan).into_iter().all(|node| match node {
        DslPlan::Filter { predicate, .. } => !value::draws_random(predicate),
        DslPlan::Select { expr, .. } => !expr.iter().any(value::draws_random),
        DslPlan::HStack { exprs, .. } => !exprs.iter().any(value::draws_random),
        // A plan whose schema was asked for wraps its input, which the walk visits.
        DslPlan::Scan { .. } | DslPlan::DataFrameScan { .. } | DslPlan::IR { .. } => true,
        _ => false,
    })
}

fn constant_count(
    compiler: &ExprCompiler<'_>,
    count: &crate::ast::Expr,
    operator: &str,
) -> Result<IdxSize, EngineError> {
    let compiled = compiler.compile(count)?;
    match evaluate_constant(&compiled) {
        Some(Literal::Long(n)) if n >= 0 => Ok(IdxSize::try_from(n).unwrap_or(IdxSize::MAX)),
        _ => Err(EngineError::at(
            format!("`{operator}` needs a constant, non-negative row count"),
            count.range.clone(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{IntoLazy as _, JoinArgs, JoinType, col, df};

    use super::{STREAMING_MIN_ROWS, needs_streaming};

    #[test]
    fn engine_choice_by_input_rows() {
        let small = df!("a" => [1i64, 2, 3]).unwrap().lazy();
        assert!(!needs_streaming(&small));

        let rows = i64::try_from(STREAMING_MIN_ROWS).unwrap();
        let large = df!("a" => (0..rows).collect::<Vec<i64>>()).unwrap().lazy();
        assert!(needs_streaming(&large.clone().filter(col("a").gt(1))));

        // A large table on either side of a join counts.
        let joined = small.join(
            large,
            [col("a")],
            [col("a")],
            JoinArgs::new(JoinType::Inner),
        );
        assert!(needs_streaming(&joined));
    }
}
