//! The code-mode worker of the workspace's tests: `code_mode_worker!()`,
//! written out so that its allocator can crash on cue.
//!
//! monty guards against the crashes we know how to provoke from Python
//! (deep nesting, deep recursion, runaway memory), so the tests make one:
//! an allocation of exactly [`CRASH_SIZE`] bytes (`'x' * 123456789`) aborts
//! the process, as a crash inside the interpreter would. Only this test
//! binary does; the library's worker has no such hook.

use std::alloc::{GlobalAlloc, Layout};
use std::process::ExitCode;

use toolrunner::code_mode::WorkerAllocator;

/// The size of the allocation that crashes the worker.
const CRASH_SIZE: usize = 123_456_789;

struct CrashOnCue;

// SAFETY: every call is forwarded unchanged to monty's allocator, except one
// of `CRASH_SIZE` bytes, which aborts the process and so never returns.
unsafe impl GlobalAlloc for CrashOnCue {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() == CRASH_SIZE {
            std::process::abort();
        }
        // SAFETY: forwarded unchanged.
        unsafe { WorkerAllocator.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { WorkerAllocator.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { WorkerAllocator.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size == CRASH_SIZE {
            std::process::abort();
        }
        // SAFETY: forwarded unchanged.
        unsafe { WorkerAllocator.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CrashOnCue = CrashOnCue;

fn main() -> ExitCode {
    toolrunner::code_mode::worker_main()
}
