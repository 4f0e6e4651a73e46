//! A code-mode worker built wrong: without monty's allocator it cannot count
//! a program's memory, and must refuse to run programs.

fn main() -> std::process::ExitCode {
    toolrunner::code_mode::worker_main()
}
