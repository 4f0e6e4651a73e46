//! The frames a host and its worker exchange over the worker's stdin and
//! stdout.
//!
//! A frame is a little-endian `u32` length and that many bytes of
//! [postcard](https://docs.rs/postcard), a compact binary serde format that
//! monty already depends on. Binary rather than JSON because what crosses is
//! mostly program text, tool input (JSON text already) and tool replies,
//! which postcard carries as raw bytes with a varint length: nothing to
//! escape, nothing to parse twice. Values never cross as Python objects:
//! tool replies are parsed, and the program's result rendered, inside the
//! worker, within its memory limit.

use std::io::{self, Read, Write};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::super::limits::Limits;
use super::super::reply::Reply;
use super::super::stubs::Binding;

/// The version of the protocol: the crate's, since host and worker are
/// built from the same source.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A frame from the host to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// The first frame: what every program this worker runs may use.
    Setup {
        /// The host's [`VERSION`]; a worker of another version refuses.
        version: String,
        /// The tools programs may call.
        bindings: Vec<Binding>,
        /// The limits of each program.
        limits: WireLimits,
    },
    /// Run a program: afresh, or in the interpreter the last one left.
    Run {
        /// Numbers the worker's programs, so that a late reply to an
        /// earlier one is told apart.
        run: u64,
        /// The program.
        code: String,
        /// Whether to start from a fresh interpreter.
        fresh: bool,
    },
    /// The reply to a call.
    Reply {
        /// The program that made the call.
        run: u64,
        /// monty's id of the call.
        id: u32,
        /// The tool's answer.
        reply: Reply,
    },
}

/// A frame from a worker to its host.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// The worker took its setup and waits for programs.
    Ready,
    /// The worker cannot run programs, and says why; it exits next.
    Refused(String),
    /// A program calls a tool.
    Call {
        /// The program making the call.
        run: u64,
        /// monty's id of the call.
        id: u32,
        /// The call's number in its program, from 1.
        seq: u64,
        /// The tool's name.
        tool: String,
        /// The tool's input, as JSON text.
        input: String,
    },
    /// A program ended; what the model reads.
    Done {
        /// The program that ended.
        run: u64,
        /// The `run_code` result's text.
        text: String,
        /// Whether it is an error result.
        is_error: bool,
        /// The tool calls the program made.
        tool_calls: u64,
        /// Whether the worker must not run another program (the
        /// interpreter panicked); it exits next.
        retire: bool,
    },
}

/// [`Limits`] as they cross the pipe (the public type stays free of serde).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireLimits {
    timeout: Duration,
    max_tool_calls: u64,
    max_recursion_depth: u64,
    max_output_bytes: u64,
    max_allocation_bytes: u64,
    max_memory: u64,
}

impl From<&Limits> for WireLimits {
    fn from(limits: &Limits) -> Self {
        let wide = |n: usize| n as u64;
        WireLimits {
            timeout: limits.timeout,
            max_tool_calls: wide(limits.max_tool_calls),
            max_recursion_depth: wide(limits.max_recursion_depth),
            max_output_bytes: wide(limits.max_output_bytes),
            max_allocation_bytes: wide(limits.max_allocation_bytes),
            max_memory: wide(limits.max_memory),
        }
    }
}

impl From<WireLimits> for Limits {
    fn from(wire: WireLimits) -> Self {
        let narrow = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Limits::default()
            .timeout(wire.timeout)
            .max_tool_calls(narrow(wire.max_tool_calls))
            .max_recursion_depth(narrow(wire.max_recursion_depth))
            .max_output_bytes(narrow(wire.max_output_bytes))
            .max_allocation_bytes(narrow(wire.max_allocation_bytes))
            .max_memory(narrow(wire.max_memory))
    }
}

/// Writes `frame` and flushes it.
pub(crate) fn write<T: Serialize>(out: &mut impl Write, frame: &T) -> io::Result<()> {
    let body = postcard::to_stdvec(frame).map_err(io::Error::other)?;
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::other(format!("frame of {} bytes is too large", body.len())))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&body)?;
    out.flush()
}

/// Reads the next frame; `None` at the end of the stream.
///
/// # Errors
///
/// On a read error, a frame longer than `max` bytes (read no further: the
/// peer is not trusted with the reader's memory), or one that does not
/// decode.
pub(crate) fn read<T: DeserializeOwned>(
    input: &mut impl Read,
    max: usize,
) -> io::Result<Option<T>> {
    let mut len = [0; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is over the limit of {max}"),
        ));
    }
    let mut body = vec![0; len];
    input.read_exact(&mut body)?;
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut pipe = Vec::new();
        let call = FromWorker::Call {
            run: 3,
            id: 7,
            seq: 1,
            tool: "get-user".into(),
            input: r#"{"id": 12345678901234567890}"#.into(),
        };
        write(&mut pipe, &call).unwrap();
        write(&mut pipe, &FromWorker::Ready).unwrap();
        let mut input = pipe.as_slice();
        let back: FromWorker = read(&mut input, 1 << 20).unwrap().unwrap();
        assert_eq!(format!("{back:?}"), format!("{call:?}"));
        assert!(matches!(
            read(&mut input, 1 << 20).unwrap(),
            Some(FromWorker::Ready)
        ));
        assert!(read::<FromWorker>(&mut input, 1 << 20).unwrap().is_none());
    }

    #[test]
    fn limits_cross_unchanged() {
        let limits = Limits::default()
            .timeout(Duration::from_millis(1500))
            .max_memory(1 << 20);
        let mut pipe = Vec::new();
        write(&mut pipe, &WireLimits::from(&limits)).unwrap();
        let back: WireLimits = read(&mut pipe.as_slice(), 1 << 20).unwrap().unwrap();
        assert_eq!(Limits::from(back), limits);
    }

    #[test]
    fn oversized_frames_are_refused_before_they_are_read() {
        let mut pipe = Vec::new();
        write(
            &mut pipe,
            &ToWorker::Reply {
                run: 1,
                id: 1,
                reply: Reply::Text("x".repeat(100)),
            },
        )
        .unwrap();
        let err = read::<ToWorker>(&mut pipe.as_slice(), 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame of 105 bytes is over the limit of 10"
        );
    }
}
