//! The code-mode worker of the workspace's tests.

toolrunner::code_mode_worker!();
