//! One program in the interpreter, on a thread of its own (in process) or on
//! a worker's main thread.
//!
//! monty pauses whenever the program needs the host: to look up a name it
//! does not know, to call a tool, to touch the operating system, or to wait
//! for calls it awaits. This module answers every pause. A tool call is
//! started at once and the program carries on with a pending future, so
//! that calls awaited together run together. A call that finishes when first
//! polled (an in-memory tool) is answered from here; the others are handed
//! to the host side ([`super::host`]), and their results come back when the
//! program waits for them.
//!
//! The interpreter runs on a blocking thread, not on the async runtime: a
//! program may compute for as long as its time limit allows, and must not
//! hold up other tasks meanwhile.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use monty::{ReplProgress, ReplStartError};
use monty_types::{
    ExcType, ExtFunctionResult, MontyException, MontyObject, NameLookupResult, OsFunctionCall,
    PrintWriter, PrintWriterCallback,
};
use serde_json::{Map, Value};

use super::convert::object_to_value;
use super::limits::{Limits, Stop};
use super::link::{Bindings, Calls, Ending, Outcome};
use super::reply::Reply;
use super::session::{CALL, Interpreter};

/// Runs `code` in `interpreter` to its end, answering every pause.
pub(crate) fn run(
    interpreter: &mut Interpreter,
    code: &str,
    limits: &Limits,
    bindings: &Bindings,
    calls: &mut dyn Calls,
) -> Outcome {
    let deadline = Instant::now() + limits.timeout;
    let repl = interpreter.prepare(code, bindings, limits);
    let cancelled = calls.cancelled();
    let mut printer = Printer {
        text: String::new(),
        limits,
        stop: None,
        deadline,
        cancelled: &cancelled,
        total_memory: interpreter.bounds_total_memory(),
    };
    let mut waiting = Waiting::default();
    let mut tool_calls = 0usize;

    let mut step = repl.feed_start(code, Vec::new(), PrintWriter::Callback(&mut printer));
    let ending = loop {
        let progress = match step {
            Ok(progress) => progress,
            Err(error) => {
                let ReplStartError { repl, error } = *error;
                interpreter.finish(repl);
                break printer.ending_for(interpreter.present(error));
            }
        };
        if let ReplProgress::Complete { repl, value } = progress {
            interpreter.finish(repl);
            break match printer.stop {
                Some(stop) => Ending::Stopped(stop),
                None => Ending::Value(value),
            };
        }
        // Limits the program could not see are enforced at every pause, and
        // there the host's exception cannot be caught.
        if let Some(stop) = printer.check() {
            step = abort(progress, stop, limits, &mut printer);
            continue;
        }
        let print = PrintWriter::Callback(&mut printer);
        step = match progress {
            ReplProgress::NameLookup(lookup) => {
                let answer = if lookup.name == CALL {
                    NameLookupResult::Value(MontyObject::Function {
                        name: CALL.to_owned(),
                        docstring: None,
                    })
                } else {
                    NameLookupResult::Undefined
                };
                lookup.resume(answer, print)
            }
            ReplProgress::FunctionCall(call) => {
                if call.object_id.is_some() || call.function_name != CALL {
                    let name = call.function_name.clone();
                    call.resume(ExtFunctionResult::NotFound(name), print)
                } else if tool_calls == limits.max_tool_calls {
                    abort(
                        ReplProgress::FunctionCall(call),
                        Stop::ToolCalls,
                        limits,
                        &mut printer,
                    )
                } else {
                    match call_input(bindings, &call.args, &call.kwargs) {
                        Err(exc) => call.resume(ExtFunctionResult::Error(exc), print),
                        Ok((tool, input)) => {
                            tool_calls += 1;
                            match calls.start(call.call_id, tool_calls, tool, input) {
                                Ok(answered) => {
                                    if let Some(reply) = answered {
                                        waiting.early.insert(call.call_id, reply);
                                    }
                                    call.resume_pending(print)
                                }
                                Err(stop) => abort(
                                    ReplProgress::FunctionCall(call),
                                    stop,
                                    limits,
                                    &mut printer,
                                ),
                            }
                        }
                    }
                }
            }
            ReplProgress::OsCall(call) => {
                let refusal = refuse(&call.function_call);
                call.resume(ExtFunctionResult::Error(refusal), print)
            }
            ReplProgress::ResolveFutures(pending) => {
                match waiting.next_results(pending.pending_call_ids(), calls, deadline) {
                    Ok(results) => pending.resume(results, print),
                    Err(stop) => abort(
                        ReplProgress::ResolveFutures(pending),
                        stop,
                        limits,
                        &mut printer,
                    ),
                }
            }
            ReplProgress::Complete { .. } => unreachable!("handled above"),
        };
    };
    Outcome {
        output: printer.text,
        ending,
        tool_calls,
    }
}

/// Ends the program at a pause with an exception it cannot catch.
fn abort(
    progress: ReplProgress,
    stop: Stop,
    limits: &Limits,
    printer: &mut Printer<'_>,
) -> Result<ReplProgress, Box<ReplStartError>> {
    printer.stop.get_or_insert(stop);
    let exc = interrupt(stop, limits);
    let print = PrintWriter::Callback(printer);
    match progress {
        ReplProgress::FunctionCall(p) => p.abort(exc, print),
        ReplProgress::OsCall(p) => p.abort(exc, print),
        ReplProgress::NameLookup(p) => p.abort(exc, print),
        ReplProgress::ResolveFutures(p) => p.abort(exc, print),
        complete @ ReplProgress::Complete { .. } => Ok(complete),
    }
}

/// The exception that stops a program. It is not an `Exception`, so
/// `except Exception` does not catch it where the program can see it.
fn interrupt(stop: Stop, limits: &Limits) -> MontyException {
    MontyException::new(ExcType::KeyboardInterrupt, Some(stop.message(limits)))
}

/// The tool and input for a call from Python: `__toolrunner_call(function,
/// kwargs)`, with the keyword arguments mapped back to the tool's property
/// names.
///
/// # Errors
///
/// A `TypeError` for unknown or missing keywords and values that have no
/// JSON form; the program can catch it.
fn call_input<'b>(
    bindings: &'b Bindings,
    args: &[MontyObject],
    kwargs: &[(MontyObject, MontyObject)],
) -> Result<(&'b str, Value), MontyException> {
    let type_error = |message: String| MontyException::new(ExcType::TypeError, Some(message));
    let (binding, arguments) = match (args, kwargs) {
        ([MontyObject::String(function), MontyObject::Dict(arguments)], []) => {
            match bindings.get(function) {
                Some(binding) => (binding, arguments),
                None => {
                    return Err(type_error(format!(
                        "{CALL}() got an unknown function '{function}'"
                    )));
                }
            }
        }
        _ => {
            return Err(type_error(format!(
                "{CALL}() takes a function name and a dict of arguments"
            )));
        }
    };
    let function = &binding.function;
    let mut input = Map::with_capacity(arguments.len());
    for (key, value) in arguments {
        let MontyObject::String(key) = key else {
            return Err(type_error(format!("{function}() keywords must be strings")));
        };
        let (property, required) = match binding.param(key) {
            Some(param) => (param.property.as_str(), param.required),
            None if binding.extra => (key.as_str(), false),
            None => {
                return Err(type_error(format!(
                    "{function}() got an unexpected keyword argument '{key}'"
                )));
            }
        };
        // An optional parameter left at its `None` default is left out, so
        // that tools whose schema does not allow null still accept it.
        if !required && matches!(value, MontyObject::None) {
            continue;
        }
        let value = object_to_value(value)
            .map_err(|e| type_error(format!("{function}() argument '{key}': {}", e.0)))?;
        input.insert(property.to_owned(), value);
    }
    let missing: Vec<String> = binding
        .params
        .iter()
        .filter(|p| p.required && !input.contains_key(&p.property))
        .map(|p| format!("'{}'", p.name))
        .collect();
    if !missing.is_empty() {
        return Err(type_error(format!(
            "{function}() missing required keyword argument{}: {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    Ok((binding.tool.as_str(), Value::Object(input)))
}

/// The exception for an operating-system call: the sandbox has none.
fn refuse(call: &OsFunctionCall) -> MontyException {
    match call {
        OsFunctionCall::Getenv(_) | OsFunctionCall::GetEnviron => MontyException::new(
            ExcType::PermissionError,
            Some("the sandbox has no environment variables".to_owned()),
        ),
        OsFunctionCall::DateToday | OsFunctionCall::DateTimeNow(_) => MontyException::new(
            ExcType::PermissionError,
            Some(format!(
                "the sandbox has no clock: `{}` is not available",
                call.name()
            )),
        ),
        _ => {
            let path = call.fs_primary_path().unwrap_or_default();
            MontyException::new(
                ExcType::PermissionError,
                Some(format!(
                    "the sandbox has no file system: `{}` of {} is not allowed",
                    call.name(),
                    MontyObject::String(path.to_owned()).py_repr()
                )),
            )
        }
    }
}

/// Results of calls the program has made, waiting for the program to wait
/// for them.
#[derive(Default)]
struct Waiting {
    /// Results that came back before the program waited for them.
    early: HashMap<u32, Reply>,
}

impl Waiting {
    /// The results for some of the `pending` calls: those already back,
    /// else the next to come back.
    ///
    /// # Errors
    ///
    /// [`Stop::Timeout`] at the deadline; [`Stop::Cancelled`] when the host
    /// is gone.
    fn next_results(
        &mut self,
        pending: &[u32],
        calls: &mut dyn Calls,
        deadline: Instant,
    ) -> Result<Vec<(u32, ExtFunctionResult)>, Stop> {
        loop {
            while let Some((id, reply)) = calls.try_next() {
                self.early.insert(id, reply);
            }
            let ready: Vec<(u32, ExtFunctionResult)> = pending
                .iter()
                .filter_map(|id| {
                    self.early
                        .remove(id)
                        .map(|reply| (*id, ExtFunctionResult::Return(reply.into_python())))
                })
                .collect();
            if !ready.is_empty() {
                return Ok(ready);
            }
            let (id, reply) = calls.next(deadline)?;
            self.early.insert(id, reply);
        }
    }
}

/// Collects what the program prints, up to the output limit, and stops a
/// program that runs past its deadline or is no longer wanted.
struct Printer<'a> {
    text: String,
    limits: &'a Limits,
    /// Why the program is being stopped, once it is.
    stop: Option<Stop>,
    deadline: Instant,
    cancelled: &'a AtomicBool,
    /// Whether the interpreter's memory limit bounds the whole program (in a
    /// worker) rather than single values.
    total_memory: bool,
}

impl Printer<'_> {
    fn write(&mut self, s: &str) -> Result<(), MontyException> {
        if let Some(stop) = self.stop {
            return Err(interrupt(stop, self.limits));
        }
        let room = self.limits.max_output_bytes.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        self.text.push_str(&s[..s.floor_char_boundary(room)]);
        self.stop = Some(Stop::Output);
        Err(interrupt(Stop::Output, self.limits))
    }

    /// Why the program must stop now, if it must.
    fn check(&mut self) -> Option<Stop> {
        if self.stop.is_none() {
            if self.cancelled.load(Ordering::Relaxed) {
                self.stop = Some(Stop::Cancelled);
            } else if Instant::now() >= self.deadline {
                self.stop = Some(Stop::Timeout);
            }
        }
        self.stop
    }

    /// How a program that raised `error` ended: stopped, when the host
    /// stopped it (whatever it raised on the way), else with the error.
    fn ending_for(&self, error: MontyException) -> Ending {
        if let Some(stop) = self.stop {
            return Ending::Stopped(stop);
        }
        // The interpreter's own clock ran out: a computation that never paused.
        let interpreter_timeout = error.exc_type() == ExcType::TimeoutError
            && error
                .message()
                .is_some_and(|m| m.starts_with("time limit exceeded"));
        if interpreter_timeout {
            return Ending::Stopped(Stop::Timeout);
        }
        // In a worker the interpreter's memory limit is the program's, which
        // it cannot catch: name it as the host names the hard limit.
        let memory_limit = error.exc_type() == ExcType::MemoryError
            && error
                .message()
                .is_some_and(|m| m.starts_with("memory limit exceeded"));
        if memory_limit && self.total_memory {
            return Ending::Stopped(Stop::Memory);
        }
        Ending::Raised(error)
    }
}

impl PrintWriterCallback for Printer<'_> {
    fn stdout_write(&mut self, output: Cow<'_, str>) -> Result<(), MontyException> {
        self.write(&output)
    }

    fn stdout_push(&mut self, end: char) -> Result<(), MontyException> {
        self.write(end.encode_utf8(&mut [0; 4]))
    }

    /// Called every few hundred instructions: where a program that computes
    /// without pausing is stopped.
    fn poll_flush(&mut self) -> Result<(), MontyException> {
        match self.check() {
            Some(stop) => Err(interrupt(stop, self.limits)),
            None => Ok(()),
        }
    }
}
