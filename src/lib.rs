//! kvdiag: why can't this Azure Container App get its secrets?
//!
//! Data flows one way (docs/design.md#shape-of-the-code):
//!
//! ```text
//! bundle (recorded Azure responses) -> snapshot (typed, redacted) -> checks (pure) -> verdict -> render
//! ```
//!
//! * [`bundle`] reads and redacts an evidence bundle, the one format shared by replay, fixtures
//!   and (later) live collection.
//! * [`snapshot`] turns the raw responses into typed evidence and records every gap.
//! * [`checks`] holds one checker per hypothesis; none does I/O.
//! * [`verdict`] ranks the results and decides the exit code; [`render`] only prints.
//! * [`lint`] checks a Container Apps YAML or ARM template before it is deployed, with the
//!   same model and checkers.
//! * [`pipeline`] runs check, replay, collect and lint end to end without printing; [`cli`]
//!   and the MCP server ([`mcp`]) both call it.

pub mod azure;
pub mod bundle;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod kql;
pub mod lint;
pub mod logs;
pub mod mcp;
pub mod pipeline;
pub mod plan;
pub mod refusals;
pub mod render;
pub mod scan;
pub mod snapshot;
pub mod timeline;
pub mod verdict;
