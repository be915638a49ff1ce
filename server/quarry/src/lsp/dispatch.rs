//! The transport-side wrapper around the `tower-lsp-server` service.
//!
//! `tower-lsp-server` 0.23 runs up to four handlers at once and gives no ordering guarantee
//! between them. [`OrderedService::call`] runs on the reader loop, once per message and in
//! arrival order, so document notifications are applied there, synchronously, before the next
//! message is read.
//! Requests go on to the inner service, each inside a span carrying its id and method, and a
//! panic inside one becomes an `InternalError` response for that request alone.

use std::any::Any;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::{self, BoxFuture};
use tower::Service;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};
use tower_lsp_server::{ExitedError, LspService};
use tracing::Instrument;

use super::server::Server;

pub struct OrderedService {
    inner: LspService<Server>,
}

impl OrderedService {
    pub fn new(inner: LspService<Server>) -> Self {
        OrderedService { inner }
    }
}

impl Service<Request> for OrderedService {
    type Response = Option<Response>;
    type Error = ExitedError;
    type Future = BoxFuture<'static, Result<Option<Response>, ExitedError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = request.method().to_owned();
        if is_document_sync(&method) {
            let span = tracing::info_span!("notification", method = %method);
            let _entered = span.enter();
            let server = self.inner.inner();
            let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
                server.apply_document_notification(&method, request.params());
            }));
            if let Err(payload) = applied {
                tracing::error!(panic = %panic_message(&*payload), "document notification panicked");
            }
            return future::ready(Ok(None)).boxed();
        }

        let id = request.id().cloned();
        let span = match &id {
            Some(id) => tracing::info_span!("request", id = %id, method = %method),
            None => tracing::info_span!("notification", method = %method),
        };
        let request = super::handlers::templates::with_default_params(request);
        let response = self.inner.call(request);
        async move {
            match AssertUnwindSafe(response).catch_unwind().await {
                Ok(response) => response,
                Err(payload) => {
                    let message = panic_message(&*payload);
                    tracing::error!(panic = %message, "handler panicked");
                    // NOTE: `tower-lsp-server` keeps the cancellation handle of a request whose
                    // handler panicked, so a later request that reuses the same id is rejected.
                    Ok(id.map(|id| Response::from_error(id, internal_error(&method, &message))))
                }
            }
        }
        .instrument(span)
        .boxed()
    }
}

fn is_document_sync(method: &str) -> bool {
    matches!(
        method,
        "textDocument/didOpen" | "textDocument/didChange" | "textDocument/didClose"
    )
}

/// Builds the `InternalError` response body for a handler that panicked with `panic_text`.
pub fn internal_error(method: &str, panic_text: &str) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: Cow::Owned(format!(
            "request handler for `{method}` panicked: {panic_text}"
        )),
        data: None,
    }
}

/// Returns the text of a panic payload: the `&str` or `String` passed to `panic!`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic payload is not a string".to_owned()
    }
}
