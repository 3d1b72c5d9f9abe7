//! The audit as one picture: accounts as rows, regions as columns, one
//! symbol per cell, the worst accounts and regions first. For the terminal,
//! markdown and (through [`Grid`]) the HTML report.

use std::collections::HashMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::paint;
use crate::engine::audit::{AuditReport, Severity, Status, TargetAudit};

/// What a cell shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    /// Unlogged or missing, and models are invoked there: critical.
    InUse,
    Compliant,
    Drift,
    Missing,
    Unmanaged,
    Unlogged,
    Error,
    /// The account has not enabled the region: nothing can log there.
    NotEnabled,
    /// The account × region is not part of this audit.
    NotInScope,
}

impl Cell {
    pub const ALL: [Cell; 9] = [
        Cell::InUse,
        Cell::Drift,
        Cell::Missing,
        Cell::Unmanaged,
        Cell::Unlogged,
        Cell::Error,
        Cell::Compliant,
        Cell::NotEnabled,
        Cell::NotInScope,
    ];

    fn of(status: Status) -> Cell {
        match status {
            Status::Compliant => Cell::Compliant,
            Status::Drift => Cell::Drift,
            Status::Missing => Cell::Missing,
            Status::Unmanaged => Cell::Unmanaged,
            Status::Unlogged => Cell::Unlogged,
            Status::Error => Cell::Error,
            Status::NotEnabled => Cell::NotEnabled,
        }
    }

    /// Distinct without colour, so `NO_COLOR` loses nothing.
    pub fn symbol(self) -> &'static str {
        match self {
            Cell::InUse => "●",
            Cell::Compliant => "✓",
            Cell::Drift => "~",
            Cell::Missing => "✗",
            Cell::Unmanaged => "?",
            Cell::Unlogged => "○",
            Cell::Error => "!",
            Cell::NotEnabled => "-",
            Cell::NotInScope => "·",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Cell::InUse => "unlogged, in use",
            Cell::Compliant => "compliant",
            Cell::Drift => "drift",
            Cell::Missing => "missing",
            Cell::Unmanaged => "unmanaged",
            Cell::Unlogged => "unlogged",
            Cell::Error => "error",
            Cell::NotEnabled => "not enabled",
            Cell::NotInScope => "not in scope",
        }
    }

    fn style(self) -> Style {
        match self {
            Cell::InUse => AnsiColor::BrightRed.on_default().bold(),
            Cell::Compliant => AnsiColor::Green.on_default(),
            Cell::Drift => AnsiColor::Yellow.on_default(),
            Cell::Missing => AnsiColor::Red.on_default(),
            Cell::Unmanaged => AnsiColor::Magenta.on_default(),
            Cell::Unlogged => AnsiColor::Blue.on_default(),
            Cell::Error => AnsiColor::Red.on_default().bold(),
            Cell::NotEnabled => AnsiColor::Cyan.on_default().dimmed(),
            Cell::NotInScope => Style::new().dimmed(),
        }
    }

    /// Whether the cell is something to look at.
    pub fn is_finding(self) -> bool {
        !matches!(self, Cell::Compliant | Cell::NotEnabled | Cell::NotInScope)
    }
}

/// The audit laid out as a grid, rows and columns sorted worst first: by
/// the worst severity in them, then by how many findings they have.
pub struct Grid<'r> {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    cells: HashMap<(usize, usize), &'r TargetAudit>,
}

impl<'r> Grid<'r> {
    pub fn new(report: &'r AuditReport) -> Grid<'r> {
        // Accounts and regions in the order first seen, each looked up once
        // by name; a target listed twice keeps its last audit.
        let mut account_index: HashMap<&'r str, usize> = HashMap::new();
        let mut region_index: HashMap<&'r str, usize> = HashMap::new();
        let mut accounts: Vec<&'r str> = Vec::new();
        let mut regions: Vec<&'r str> = Vec::new();
        let mut found: HashMap<(usize, usize), &'r TargetAudit> = HashMap::new();
        for audit in &report.targets {
            let target = audit.target();
            let account = *account_index
                .entry(target.account.label())
                .or_insert_with_key(|label| {
                    accounts.push(label);
                    accounts.len() - 1
                });
            let region = *region_index
                .entry(target.region.as_str())
                .or_insert_with_key(|name| {
                    regions.push(name);
                    regions.len() - 1
                });
            found.insert((account, region), audit);
        }
        // Per account and per region: the worst severity (no finding sorts
        // last) and the number of targets with a finding.
        type Score = (Option<Severity>, usize);
        let mut account_score: Vec<Score> = vec![(None, 0); accounts.len()];
        let mut region_score: Vec<Score> = vec![(None, 0); regions.len()];
        for (&(account, region), audit) in &found {
            let Some(severity) = audit.severity() else {
                continue;
            };
            for score in [&mut account_score[account], &mut region_score[region]] {
                score.0 = Some(score.0.map_or(severity, |worst| worst.min(severity)));
                score.1 += 1;
            }
        }
        let key = |score: &Score| match score {
            (Some(severity), count) => (0, Some(*severity), std::cmp::Reverse(*count)),
            (None, _) => (1, None, std::cmp::Reverse(0)),
        };
        // Stable sorts: ties keep the fleet file's order.
        let order = |scores: &[Score]| {
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by_key(|&i| key(&scores[i]));
            let mut position = vec![0; order.len()];
            for (sorted, &i) in order.iter().enumerate() {
                position[i] = sorted;
            }
            (order, position)
        };
        let (account_order, row_of) = order(&account_score);
        let (region_order, column_of) = order(&region_score);
        let cells = found
            .into_iter()
            .map(|((account, region), audit)| ((row_of[account], column_of[region]), audit))
            .collect();
        Grid {
            accounts: account_order
                .iter()
                .map(|&i| accounts[i].to_owned())
                .collect(),
            regions: region_order
                .iter()
                .map(|&i| regions[i].to_owned())
                .collect(),
            cells,
        }
    }

    pub fn audit(&self, row: usize, column: usize) -> Option<&'r TargetAudit> {
        self.cells.get(&(row, column)).copied()
    }

    pub fn cell(&self, row: usize, column: usize) -> Cell {
        self.audit(row, column).map_or(Cell::NotInScope, |a| {
            // A target that logs as it should, to a destination that drifted.
            if a.status == Status::Compliant && !a.destination_drift.is_empty() {
                Cell::Drift
            } else if a.in_use_unlogged() {
                Cell::InUse
            } else {
                Cell::of(a.status)
            }
        })
    }

    fn row_findings(&self, row: usize) -> usize {
        (0..self.regions.len())
            .filter(|&c| self.cell(row, c).is_finding())
            .count()
    }

    fn column_findings(&self, column: usize) -> usize {
        (0..self.accounts.len())
            .filter(|&r| self.cell(r, column).is_finding())
            .count()
    }

    pub fn count(&self, kind: Cell) -> usize {
        (0..self.accounts.len())
            .flat_map(|r| (0..self.regions.len()).map(move |c| (r, c)))
            .filter(|&(r, c)| self.cell(r, c) == kind)
            .count()
    }
}

/// AWS's own short region codes: `us-east-1` → `use1`, `ap-southeast-2` →
/// `apse2`, so twenty regions fit across a terminal.
pub fn short_region(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut out = String::from(parts[0]);
    for word in &parts[1..parts.len().saturating_sub(1)] {
        out.push_str(match *word {
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            "gov" => "g",
            other => &other[..1],
        });
    }
    out.push_str(parts.last().copied().unwrap_or_default());
    out
}

/// The terminal matrix, wrapped into blocks of columns that fit `width`.
pub fn terminal(grid: &Grid<'_>, width: usize) -> String {
    let mut out = String::new();
    if grid.accounts.is_empty() {
        out.push_str("Nothing was audited.\n");
        return out;
    }
    let label_width = grid
        .accounts
        .iter()
        .map(|a| a.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let codes: Vec<String> = grid.regions.iter().map(|r| short_region(r)).collect();
    let column_width = codes.iter().map(String::len).max().unwrap_or(4).max(3) + 1;
    let fixed = label_width + 2 + 8;
    let per_block = ((width.saturating_sub(fixed)) / column_width).max(1);
    let columns: Vec<usize> = (0..grid.regions.len()).collect();
    for (block, chunk) in columns.chunks(per_block).enumerate() {
        if block > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{:label_width$}  ", "");
        for &c in chunk {
            let _ = write!(out, "{:>column_width$}", codes[c]);
        }
        out.push_str("  findings\n");
        for (row, account) in grid.accounts.iter().enumerate() {
            let _ = write!(out, "{account:label_width$}  ");
            for &c in chunk {
                let cell = grid.cell(row, c);
                let pad = " ".repeat(column_width - 1);
                let _ = write!(out, "{pad}{}", paint(cell.style(), cell.symbol()));
            }
            let _ = writeln!(out, "  {:>8}", grid.row_findings(row));
        }
        let _ = write!(out, "{:label_width$}  ", "findings");
        for &c in chunk {
            let _ = write!(out, "{:>column_width$}", grid.column_findings(c));
        }
        out.push('\n');
    }
    out.push('\n');
    let legend: Vec<(String, usize)> = Cell::ALL
        .iter()
        .map(|&cell| {
            let text = format!("{} {} {}", cell.symbol(), cell.name(), grid.count(cell));
            let shown = format!(
                "{} {} {}",
                paint(cell.style(), cell.symbol()),
                cell.name(),
                grid.count(cell)
            );
            (shown, text.chars().count())
        })
        .collect();
    wrap_items(&mut out, legend, "   ", width);
    let regions: Vec<(String, usize)> = grid
        .regions
        .iter()
        .zip(&codes)
        .map(|(r, c)| {
            let item = format!("{c}={r}");
            let len = item.len();
            (item, len)
        })
        .collect();
    wrap_items(&mut out, regions, " ", width);
    out
}

/// Writes `(text, visible length)` items separated by `gap`, breaking lines
/// before they pass `width`.
fn wrap_items(out: &mut String, items: Vec<(String, usize)>, gap: &str, width: usize) {
    let mut line = 0;
    for (text, len) in items {
        if line > 0 && line + gap.len() + len > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push_str(gap);
            line += gap.len();
        }
        out.push_str(&text);
        line += len;
    }
    out.push('\n');
}

/// A compact markdown matrix when it fits in `limit` bytes, otherwise
/// per-region totals.
pub fn markdown(grid: &Grid<'_>, limit: usize) -> String {
    let codes: Vec<String> = grid.regions.iter().map(|r| short_region(r)).collect();
    let mut table = String::new();
    let _ = writeln!(table, "| account | {} | findings |", codes.join(" | "));
    let _ = writeln!(table, "|---|{}---:|", ":-:|".repeat(codes.len()));
    for (row, account) in grid.accounts.iter().enumerate() {
        let cells: Vec<&str> = (0..grid.regions.len())
            .map(|c| grid.cell(row, c).symbol())
            .collect();
        let _ = writeln!(
            table,
            "| `{account}` | {} | {} |",
            cells.join(" | "),
            grid.row_findings(row)
        );
    }
    let legend: Vec<String> = Cell::ALL
        .iter()
        .map(|c| format!("{} {}", c.symbol(), c.name()))
        .collect();
    let _ = writeln!(table, "\n{}", legend.join(" · "));
    if table.len() <= limit {
        return table;
    }
    let mut totals = String::from(
        "| region | in use, unlogged | drift | missing | unmanaged | unlogged | error | compliant | not enabled |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (column, region) in grid.regions.iter().enumerate() {
        let count = |kind: Cell| {
            (0..grid.accounts.len())
                .filter(|&r| grid.cell(r, column) == kind)
                .count()
        };
        let _ = writeln!(
            totals,
            "| {region} | {} | {} | {} | {} | {} | {} | {} | {} |",
            count(Cell::InUse),
            count(Cell::Drift),
            count(Cell::Missing),
            count(Cell::Unmanaged),
            count(Cell::Unlogged),
            count(Cell::Error),
            count(Cell::Compliant),
            count(Cell::NotEnabled)
        );
    }
    let _ = writeln!(
        totals,
        "\n_The account × region matrix ({} × {}) is too large for here; these are per-region totals._",
        grid.accounts.len(),
        grid.regions.len()
    );
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_distinct() {
        let codes: Vec<String> = crate::fleet::BEDROCK_REGIONS
            .iter()
            .map(|r| short_region(r))
            .collect();
        let unique: std::collections::HashSet<&String> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert_eq!(short_region("ap-southeast-2"), "apse2");
        assert_eq!(short_region("us-gov-west-1"), "usgw1");
    }
}
