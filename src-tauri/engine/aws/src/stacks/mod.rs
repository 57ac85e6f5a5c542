//! Vendors' CloudFormation stacks without a terminal: a template read into a form, its
//! values checked before any call, the stack created or updated through a change set with
//! its events, its outputs, and its deletion with what stays behind.

pub mod template;
