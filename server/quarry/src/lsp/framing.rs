//! A framing layer between stdio and the JSON-RPC transport.
//!
//! The transport stops reading after the first message it cannot decode, so one malformed
//! message would end the server. This layer reads the `Content-Length` frames from stdin
//! itself, replies to a frame whose body is not a JSON-RPC message with an error response
//! (-32700 for a body that is not JSON, -32600 for JSON that is not a request, notification
//! or response), and passes every valid frame on to the transport through an in-memory pipe.
//! The transport's output goes through a second pipe, so that its messages and the error
//! responses reach stdout whole and never interleave.

use std::io;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id, Request, Response};

/// The maximum header block length accepted before the reader gives up on finding its end.
const MAX_HEADER_LEN: usize = 8 * 1024;

const HEADER_END: &[u8] = b"\r\n\r\n";
const CONTENT_LENGTH: &[u8] = b"Content-Length";

/// One frame read from the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body with its `Content-Length` header removed.
    Body(Vec<u8>),
    /// A header block without a valid `Content-Length`, with a description of the problem.
    BadHeader(String),
}

/// Reads `Content-Length` frames from a byte stream.
pub struct FrameReader<R> {
    input: R,
    buffer: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(input: R) -> FrameReader<R> {
        FrameReader {
            input,
            buffer: Vec::new(),
        }
    }

    /// Returns the next frame, or `None` at the end of the input.
    pub async fn next(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(end) = find(&self.buffer, HEADER_END) {
                return match content_length(&self.buffer[..end]) {
                    Ok(length) => {
                        let start = end + HEADER_END.len();
                        while self.buffer.len() < start + length {
                            if self.fill().await? == 0 {
                                return Ok(None);
                            }
                        }
                        let body = self.buffer[start..start + length].to_vec();
                        self.buffer.drain(..start + length);
                        Ok(Some(Frame::Body(body)))
                    }
                    Err(problem) => {
                        self.skip_bad_header(end);
                        Ok(Some(Frame::BadHeader(problem)))
                    }
                };
            }
            if self.buffer.len() > MAX_HEADER_LEN {
                let length = self.buffer.len();
                self.skip_bad_header(length.saturating_sub(HEADER_END.len()));
                return Ok(Some(Frame::BadHeader(format!(
                    "no blank line ended the header within {MAX_HEADER_LEN} bytes"
                ))));
            }
            if self.fill().await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Drops a header block that ends at `end`, or only the bytes before a later
    /// `Content-Length` inside it when garbage came before a real header.
    fn skip_bad_header(&mut self, end: usize) {
        let later_header = self
            .buffer
            .get(1..)
            .and_then(|rest| find(rest, CONTENT_LENGTH))
            .map(|position| position + 1)
            .filter(|&position| position < end);
        match later_header {
            Some(position) => self.buffer.drain(..position),
            None => self
                .buffer
                .drain(..(end + HEADER_END.len()).min(self.buffer.len())),
        };
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8 * 1024];
        let read = self.input.read(&mut chunk).await?;
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read)
    }
}

/// Reads the `Content-Length` value of a header block (without its final blank line).
fn content_length(header: &[u8]) -> Result<usize, String> {
    let text =
        std::str::from_utf8(header).map_err(|_| "the header is not valid UTF-8".to_owned())?;
    let mut length = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "the header line `{}` has no `:`",
                line.escape_debug()
            ));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(value.parse::<usize>().map_err(|_| {
                format!(
                    "Content-Length `{}` is not a byte count",
                    value.escape_debug()
                )
            })?);
        }
    }
    length.ok_or_else(|| "the header has no Content-Length".to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Frames a message body with its `Content-Length` header.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame
}

/// Returns the error response for a body that is not a JSON-RPC message, or `None` when the
/// transport can decode it.
pub fn check_body(body: &[u8]) -> Option<Response> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return Some(error_response(
                Id::Null,
                ErrorCode::ParseError,
                format!(
                    "Parse error: the message body is not valid JSON ({error}); send one \
                     JSON-RPC message per Content-Length frame"
                ),
            ));
        }
    };
    if serde_json::from_value::<Request>(value.clone()).is_ok()
        || serde_json::from_value::<Response>(value.clone()).is_ok()
    {
        return None;
    }
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<Id>(id.clone()).ok())
        .unwrap_or(Id::Null);
    Some(error_response(
        id,
        ErrorCode::InvalidRequest,
        "Invalid request: the body is JSON but not a JSON-RPC 2.0 request, notification or \
         response; it needs \"jsonrpc\": \"2.0\" and a \"method\", or an \"id\" with a \
         \"result\" or \"error\""
            .to_owned(),
    ))
}

fn error_response(id: Id, code: ErrorCode, message: String) -> Response {
    Response::from_error(
        id,
        Error {
            code,
            message: message.into(),
            data: None,
        },
    )
}

fn response_frame(response: &Response) -> Vec<u8> {
    // A response of an id, a code and a message always serializes.
    encode(&serde_json::to_vec(response).unwrap_or_default())
}

/// Copies valid frames from `input` to `transport` and sends an error response to `output`
/// for each malformed one, until the input ends or the transport closes.
pub async fn filter_input<R, W>(input: R, mut transport: W, output: mpsc::Sender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = FrameReader::new(input);
    loop {
        let frame = match reader.next().await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(error) => {
                tracing::error!(%error, "reading stdin failed");
                break;
            }
        };
        let reply = match frame {
            Frame::Body(body) => match check_body(&body) {
                None => {
                    let forwarded = transport.write_all(&encode(&body)).await;
                    if forwarded.is_err() || transport.flush().await.is_err() {
                        break;
                    }
                    continue;
                }
                Some(reply) => reply,
            },
            Frame::BadHeader(problem) => error_response(
                Id::Null,
                ErrorCode::ParseError,
                format!(
                    "Parse error: {problem}; each message needs a `Content-Length: N` header \
                     line and a blank line before its body"
                ),
            ),
        };
        tracing::warn!(
            code = reply.error().map_or(0, |error| error.code.code()),
            "answered a malformed message"
        );
        if output.send(response_frame(&reply)).await.is_err() {
            break;
        }
    }
    let _ = transport.shutdown().await;
}

/// Sends each frame the transport writes to `output` as one piece.
pub async fn pump_output<R>(transport: R, output: mpsc::Sender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
{
    let mut reader = FrameReader::new(transport);
    while let Ok(Some(Frame::Body(body))) = reader.next().await {
        if output.send(encode(&body)).await.is_err() {
            break;
        }
    }
}

/// Writes frames to `stdout` in the order they arrive until every sender is gone.
pub async fn write_output<W>(mut stdout: W, mut frames: mpsc::Receiver<Vec<u8>>)
where
    W: AsyncWrite + Unpin,
{
    while let Some(frame) = frames.recv().await {
        if stdout.write_all(&frame).await.is_err() || stdout.flush().await.is_err() {
            tracing::error!("writing to stdout failed");
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut reader = FrameReader::new(input);
        let mut frames = Vec::new();
        while let Some(frame) = reader.next().await.unwrap() {
            frames.push(frame);
        }
        frames
    }

    #[tokio::test]
    async fn reads_frames_split_across_headers() {
        let input = b"Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; \
                      charset=utf-8\r\n\r\n{}Content-Length: 4\r\n\r\nnull";
        assert_eq!(
            frames(input).await,
            vec![Frame::Body(b"{}".to_vec()), Frame::Body(b"null".to_vec())]
        );
    }

    #[tokio::test]
    async fn bad_header_then_next_frame() {
        let input = b"Content-Length: x\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let frames = frames(input).await;
        assert!(
            matches!(&frames[0], Frame::BadHeader(problem) if problem.contains("`x`")),
            "{frames:?}"
        );
        assert_eq!(frames[1], Frame::Body(b"{}".to_vec()));
    }

    #[tokio::test]
    async fn garbage_before_a_header_is_skipped() {
        let input = b"{oops}Content-Length: 2\r\n\r\n{}";
        let frames = frames(input).await;
        assert!(matches!(frames[0], Frame::BadHeader(_)), "{frames:?}");
        assert_eq!(frames[1], Frame::Body(b"{}".to_vec()));
    }

    #[test]
    fn bodies_are_checked() {
        let parse = check_body(b"{bad}").expect("not JSON");
        assert_eq!(parse.error().unwrap().code, ErrorCode::ParseError);
        let invalid = check_body(br#"{"id": 7, "hello": 1}"#).expect("not JSON-RPC");
        assert_eq!(invalid.error().unwrap().code, ErrorCode::InvalidRequest);
        assert_eq!(invalid.id(), &Id::Number(7));
        assert!(check_body(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_none());
        assert!(check_body(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_none());
        assert!(check_body(br#"{"jsonrpc":"2.0","id":3,"result":null}"#).is_none());
    }
}
