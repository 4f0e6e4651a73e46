//! The guide: how to use each part of toolrunner, with examples that compile.
//!
//! The README is the overview; these pages are the long form, one topic
//! each, read on docs.rs next to the API they describe. Every example here is
//! a doctest, so the guide cannot drift from the code. Start with
//! [`tools`], [`the_loop`] and [`client`]; the other pages stand alone. A
//! page about a cargo feature is there when the feature is on (docs.rs
//! builds them all).
//!
//! This module holds documentation only: nothing in it is code to call.

