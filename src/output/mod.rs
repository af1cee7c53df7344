//! Renders scan results for people and tools: a table grouped by severity, JSON, SARIF 2.1.0
//! and CSV. The renderers take a [`Report`], which the CLI builds from the pipeline's results;
//! nothing here does I/O besides returning strings.

mod csv;
mod json;
mod report;
pub mod rules;
mod sarif;
pub mod table;

pub use report::{
    DirectorySummary, ExcludedFinding, IntegrationReport, Inventory, Report, SkippedRule, Totals,
};

/// The output formats of `idgap scan` and `idgap demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by severity, for a terminal.
    Table,
    /// One JSON document with findings, exclusions, skipped rules and inventory.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// One row per finding (RFC 4180).
    Csv,
}

/// Renders `report` in `format`. The table is plain text; the others are machine-readable.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Csv => csv::render(report),
    }
}
