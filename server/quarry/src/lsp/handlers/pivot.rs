//! The `quarry/pivots` request and the `quarry.pivot` command, as specified in
//! `docs/lsp-extensions.md`: the templates that take an entity, and one of them rendered with
//! the entity's value and optionally run through `quarry.runQuery`.

use std::sync::Arc;

use quarry_enrichment::classify;
use quarry_enrichment::pivot::{EntityType, PivotRequest, pivots, render_pivot};
use quarry_templates::ArgValue;
use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny, Position, Uri};

use super::enrich_hover::indicator_at;
use crate::lsp::ext;
use crate::lsp::from_proto;
use crate::lsp::server::Session;

/// Lists the templates that take an entity.
pub const PIVOTS: &str = "quarry/pivots";

/// Renders a pivot template with an entity's value, and runs it on request.
pub const PIVOT: &str = "quarry.pivot";

fn internal_error(message: String) -> Error {
    Error {
        code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}

/// Reads the optional `entity` field, or detects the type of `value`.
fn entity_of(params: &Value, value: &str) -> Result<EntityType> {
    if let Some(name) = params.get("entity").and_then(Value::as_str) {
        return name.parse().map_err(Error::invalid_params);
    }
    let ioc_type = classify(value).ok_or_else(|| {
        Error::invalid_params(format!(
            "cannot tell the entity type of `{value}`: pass `entity` (IpAddress, Host, Account, Url, Dns, File or Process)"
        ))
    })?;
    Ok(EntityType::for_ioc(ioc_type))
}

/// Handles `quarry/pivots`.
pub async fn handle_pivots(session: &Session, params: Value) -> Result<Value> {
    let value = match params.get("value").and_then(Value::as_str) {
        Some(value) => value.trim().to_owned(),
        None => match indicator_under_cursor(session, &params)? {
            Some(value) => value,
            None => return Ok(Value::Null),
        },
    };
    if value.is_empty() {
        return Err(Error::invalid_params(format!(
            "`{PIVOTS}` needs a non-empty `value`, or `uri` and `position`"
        )));
    }
    let entity = entity_of(&params, &value)?;
    let templates = session.templates.get(session);
    let found = pivots(&templates.library, entity);
    tracing::info!(entity = %entity, pivots = found.len(), "listed pivots");
    Ok(json!({ "entity": entity, "value": value, "pivots": found }))
}

/// Returns the indicator under `uri` and `position`, or `None` when there is none.
fn indicator_under_cursor(session: &Session, params: &Value) -> Result<Option<String>> {
    let (Some(uri), Some(position)) = (params.get("uri"), params.get("position")) else {
        return Err(Error::invalid_params(format!(
            "`{PIVOTS}` needs `value`, or `uri` and `position`"
        )));
    };
    let uri: Uri = serde_json::from_value(uri.clone())
        .map_err(|error| Error::invalid_params(format!("invalid `uri`: {error}")))?;
    let position: Position = serde_json::from_value(position.clone())
        .map_err(|error| Error::invalid_params(format!("invalid `position`: {error}")))?;
    let Some(snapshot) = session.documents.snapshot(&uri) else {
        return Err(Error::invalid_params(format!(
            "document `{}` is not open",
            uri.as_str()
        )));
    };
    let offset = from_proto::offset(&snapshot.rope, position);
    Ok(indicator_at(&session.analysis, &snapshot.file, offset).map(|indicator| indicator.value))
}

/// Runs `quarry.pivot` and the indicator commands of `enrich_actions`. Returns `None` for
/// every other command.
pub async fn execute_command(
    session: &Arc<Session>,
    client: &Client,
    params: &ExecuteCommandParams,
) -> Option<Result<Option<LSPAny>>> {
    if params.command != PIVOT {
        return super::enrich_actions::execute_command(session, params).await;
    }
    Some(pivot(session, client, &params.arguments).await.map(Some))
}

async fn pivot(session: &Arc<Session>, client: &Client, arguments: &[Value]) -> Result<Value> {
    let [argument] = arguments else {
        return Err(Error::invalid_params(format!(
            "`{PIVOT}` takes one argument object, got {} arguments",
            arguments.len()
        )));
    };
    let field = |name: &str| argument.get(name).and_then(Value::as_str);
    let template = field("template").ok_or_else(|| {
        Error::invalid_params(format!(
            "`{PIVOT}` needs `template`, as quarry/pivots names it"
        ))
    })?;
    let value = field("value")
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Error::invalid_params(format!("`{PIVOT}` needs a non-empty `value`")))?;
    let entity = entity_of(argument, value)?;
    let other_values = match argument.get("parameters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(values)) => values
            .iter()
            .map(|(name, value)| Ok((name.clone(), arg_value(name, value)?)))
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(Error::invalid_params(
                "`parameters` must be an object of values by parameter name",
            ));
        }
    };

    let templates = session.templates.get(session);
    let request = PivotRequest {
        template,
        value,
        entity,
        parameter: field("parameter"),
        other_values,
    };
    let rendered = render_pivot(&templates.library, &request).map_err(Error::invalid_params)?;
    tracing::info!(template = %rendered.template, parameter = %rendered.parameter, "rendered pivot");

    if argument.get("run").and_then(Value::as_bool) != Some(true) {
        return serde_json::to_value(&rendered)
            .map_err(|error| internal_error(format!("serializing the pivot failed: {error}")));
    }

    let mut run_argument = serde_json::Map::new();
    run_argument.insert("query".to_owned(), json!(rendered.query));
    for key in [
        "connection",
        "timeRange",
        "maxRows",
        "dataFolder",
        "timeoutSeconds",
    ] {
        if let Some(value) = argument.get(key).filter(|value| !value.is_null()) {
            run_argument.insert(key.to_owned(), value.clone());
        }
    }
    let run_params = ExecuteCommandParams {
        command: ext::RUN_QUERY.to_owned(),
        arguments: vec![Value::Object(run_argument)],
        work_done_progress_params: Default::default(),
    };
    let outcome = match crate::lsp::remote::execute_command(session, client, &run_params).await {
        Some(outcome) => outcome,
        None => super::execute_command::handle(Arc::clone(session), run_params).await,
    };
    let mut result = outcome?.unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut result {
        fields.insert("template".to_owned(), json!(rendered.template));
        fields.insert("parameter".to_owned(), json!(rendered.parameter));
    }
    Ok(result)
}

/// Converts a JSON parameter value as `quarry/renderTemplate` takes it.
fn arg_value(name: &str, value: &Value) -> Result<ArgValue> {
    Ok(match value {
        Value::String(text) => ArgValue::Text(text.clone()),
        Value::Bool(flag) => ArgValue::Bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => ArgValue::Int(integer),
            None => ArgValue::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Array(items) => ArgValue::List(
            items
                .iter()
                .map(|item| arg_value(name, item))
                .collect::<Result<Vec<_>>>()?,
        ),
        Value::Null | Value::Object(_) => {
            return Err(Error::invalid_params(format!(
                "parameter `{name}`: a value must be a string, number, boolean or array"
            )));
        }
    })
}
