//! Reading an answer's body under the response cap: the cap is enforced while reading (a
//! declared length over it is refused before reading anything, and a body that grows past it
//! is dropped at the chunk that crosses it), so memory stays bounded whatever the server sends.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::AnswerProblem;

/// The default response cap (256 KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Reads the whole body, at most `cap` bytes.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    cap: usize,
) -> Result<Bytes, AnswerProblem> {
    let declared = response.content_length();
    if declared.is_some_and(|len| len > cap as u64) {
        return Err(AnswerProblem::TooLarge { limit: cap });
    }
    // The common answer is one chunk: kept as it is, copied only when a second one arrives.
    let mut single: Option<Bytes> = None;
    let mut body: Option<BytesMut> = None;
    let mut total = 0usize;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        // A body that ends early (closed, reset, a bad chunk) is an incomplete answer.
        let chunk = chunk.map_err(|_| AnswerProblem::Truncated)?;
        total += chunk.len();
        if total > cap {
            return Err(AnswerProblem::TooLarge { limit: cap });
        }
        match (&mut body, single.take()) {
            (Some(body), _) => body.extend_from_slice(&chunk),
            (None, None) => single = Some(chunk),
            (None, Some(first)) => {
                let initial = declared.map_or(8 * 1024, |len| len as usize).min(cap);
                let mut joined = BytesMut::with_capacity(initial.max(total));
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                body = Some(joined);
            }
        }
    }
    Ok(match (body, single) {
        (Some(body), _) => body.freeze(),
        (None, Some(single)) => single,
        (None, None) => Bytes::new(),
    })
}
