//! The code-mode worker: runs `run_code` programs for a host process, with
//! monty's allocator bounding its memory. See `toolrunner::code_mode`.

toolrunner::code_mode_worker!();
