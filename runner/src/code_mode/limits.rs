//! [`Limits`]: what one program may use, and the messages that name a limit
//! when a program reaches it.

use std::fmt;
use std::time::Duration;

/// What one `run_code` program may use. Reaching a limit ends the program
/// with a message naming the limit.
///
/// ```
/// use std::time::Duration;
/// use toolrunner::code_mode::Limits;
///
/// let limits = Limits::default()
///     .timeout(Duration::from_secs(5))
///     .max_tool_calls(20);
/// assert_eq!(limits.max_tool_calls, 20);
/// assert_eq!(limits.max_output_bytes, Limits::DEFAULT_MAX_OUTPUT_BYTES);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Wall time from the start of the program to its end, tool calls
    /// included (default [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    pub timeout: Duration,
    /// Tool calls one program may make (default
    /// [`DEFAULT_MAX_TOOL_CALLS`](Self::DEFAULT_MAX_TOOL_CALLS)).
    pub max_tool_calls: usize,
    /// Nested Python calls (default
    /// [`DEFAULT_MAX_RECURSION_DEPTH`](Self::DEFAULT_MAX_RECURSION_DEPTH)).
    /// Deeper recursion raises `RecursionError`, as in CPython.
    pub max_recursion_depth: usize,
    /// Bytes of printed output returned to the model (default
    /// [`DEFAULT_MAX_OUTPUT_BYTES`](Self::DEFAULT_MAX_OUTPUT_BYTES)).
    pub max_output_bytes: usize,
    /// Estimated size of any single value the program creates in one
    /// operation, such as `"x" * 10**10` (default
    /// [`DEFAULT_MAX_ALLOCATION_BYTES`](Self::DEFAULT_MAX_ALLOCATION_BYTES)),
    /// with [`Isolation::InProcess`](super::Isolation::InProcess) only:
    /// larger ones raise `MemoryError`. It does not bound the program's
    /// total memory, which an in-process interpreter cannot enforce without
    /// owning the global allocator; in a worker, [`max_memory`](Self::max_memory)
    /// bounds all of it instead.
    pub max_allocation_bytes: usize,
    /// Bytes of memory one program may use, in a worker process (default
    /// [`DEFAULT_MAX_MEMORY`](Self::DEFAULT_MAX_MEMORY)), counted by the
    /// worker's allocator: its variables, values being built, and with
    /// [`persistent_state`](super::CodeMode::persistent_state) what earlier
    /// programs kept. Going over ends the program with
    /// `MemoryError: the program used more than 256 MiB`. The worker's
    /// address space is also capped from outside, somewhat above this.
    pub max_memory: usize,
}

impl Limits {
    /// The default [`timeout`](Self::timeout): 30 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default [`max_tool_calls`](Self::max_tool_calls): 100.
    pub const DEFAULT_MAX_TOOL_CALLS: usize = 100;
    /// The default [`max_recursion_depth`](Self::max_recursion_depth): 200.
    pub const DEFAULT_MAX_RECURSION_DEPTH: usize = 200;
    /// The default [`max_output_bytes`](Self::max_output_bytes): 20,000.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 20_000;
    /// The default [`max_allocation_bytes`](Self::max_allocation_bytes): 64 MiB.
    pub const DEFAULT_MAX_ALLOCATION_BYTES: usize = 64 << 20;
    /// The default [`max_memory`](Self::max_memory): 256 MiB.
    pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

    /// Sets [`timeout`](Self::timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_tool_calls`](Self::max_tool_calls).
    #[must_use]
    pub fn max_tool_calls(mut self, max: usize) -> Self {
        self.max_tool_calls = max;
        self
    }

    /// Sets [`max_recursion_depth`](Self::max_recursion_depth).
    #[must_use]
    pub fn max_recursion_depth(mut self, max: usize) -> Self {
        self.max_recursion_depth = max;
        self
    }

    /// Sets [`max_output_bytes`](Self::max_output_bytes).
    #[must_use]
    pub fn max_output_bytes(mut self, max: usize) -> Self {
        self.max_output_bytes = max;
        self
    }

    /// Sets [`max_allocation_bytes`](Self::max_allocation_bytes).
    #[must_use]
    pub fn max_allocation_bytes(mut self, max: usize) -> Self {
        self.max_allocation_bytes = max;
        self
    }

    /// Sets [`max_memory`](Self::max_memory).
    #[must_use]
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = bytes;
        self
    }

    /// One line for the model: the limits it should plan for, memory
    /// included when it is bounded (in a worker).
    pub(crate) fn summary(&self, memory: bool) -> String {
        let memory = if memory {
            format!(", {} of memory", DisplayBytes(self.max_memory))
        } else {
            String::new()
        };
        format!(
            "{} of wall time, {} tool calls, {} nested calls{memory} and {} bytes of printed output per program",
            DisplayDuration(self.timeout),
            self.max_tool_calls,
            self.max_recursion_depth,
            self.max_output_bytes
        )
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Self::DEFAULT_TIMEOUT,
            max_tool_calls: Self::DEFAULT_MAX_TOOL_CALLS,
            max_recursion_depth: Self::DEFAULT_MAX_RECURSION_DEPTH,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
            max_allocation_bytes: Self::DEFAULT_MAX_ALLOCATION_BYTES,
            max_memory: Self::DEFAULT_MAX_MEMORY,
        }
    }
}

/// Why the host stopped a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The program ran past [`Limits::timeout`].
    Timeout,
    /// The program tried to make more than [`Limits::max_tool_calls`] calls.
    ToolCalls,
    /// The program printed more than [`Limits::max_output_bytes`].
    Output,
    /// The result was no longer wanted (the runner was dropped).
    Cancelled,
    /// The program used more than [`Limits::max_memory`].
    Memory,
}

impl Stop {
    /// The message for the model, naming the limit and its value.
    pub(crate) fn message(self, limits: &Limits) -> String {
        match self {
            Stop::Timeout => format!(
                "the program was stopped: it ran longer than the time limit of {}",
                DisplayDuration(limits.timeout)
            ),
            Stop::ToolCalls => format!(
                "the program was stopped: it tried to make more than {} tool calls, the limit per program",
                limits.max_tool_calls
            ),
            Stop::Output => format!(
                "the program was stopped: it printed more than {} bytes, the output limit",
                limits.max_output_bytes
            ),
            Stop::Cancelled => "the program was stopped: its result is no longer wanted".to_owned(),
            Stop::Memory => format!(
                "MemoryError: the program used more than {}",
                DisplayBytes(limits.max_memory)
            ),
        }
    }
}

/// A size as a person writes it: `256 MiB`, `1.5 GiB`, `1000 bytes`.
pub(crate) struct DisplayBytes(pub(crate) usize);

impl fmt::Display for DisplayBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if n >= 1 << shift {
                let value = n as f64 / (1u64 << shift) as f64;
                return if n.is_multiple_of(1 << shift) {
                    write!(f, "{} {unit}", n >> shift)
                } else {
                    write!(f, "{value:.1} {unit}")
                };
            }
        }
        write!(f, "{n} bytes")
    }
}

/// A duration as a person writes it: `30s`, `1.5s`, `250ms`.
struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else if d < Duration::from_secs(1) && d.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}ms", d.as_millis())
        } else {
            write!(f, "{}s", d.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let show = |d| DisplayDuration(d).to_string();
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        assert_eq!(show(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn sizes_read_naturally() {
        let show = |n| DisplayBytes(n).to_string();
        assert_eq!(show(256 << 20), "256 MiB");
        assert_eq!(show(3 << 29), "1.5 GiB");
        assert_eq!(show(1000), "1000 bytes");
    }

    #[test]
    fn messages_name_the_limit() {
        let limits = Limits::default().max_tool_calls(3);
        assert!(
            Stop::ToolCalls
                .message(&limits)
                .contains("more than 3 tool calls")
        );
        assert!(Stop::Timeout.message(&limits).contains("time limit of 30s"));
        assert!(Stop::Output.message(&limits).contains("20000 bytes"));
        assert_eq!(
            Stop::Memory.message(&limits),
            "MemoryError: the program used more than 256 MiB"
        );
    }
}
