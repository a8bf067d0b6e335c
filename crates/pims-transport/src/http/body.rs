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
    let initial = declared.map_or(8 * 1024, |len| len as usize).min(cap);
    let mut body = BytesMut::with_capacity(initial);
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        // A body that ends early (closed, reset, a bad chunk) is an incomplete answer.
        let chunk = chunk.map_err(|_| AnswerProblem::Truncated)?;
        if body.len() + chunk.len() > cap {
            return Err(AnswerProblem::TooLarge { limit: cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
