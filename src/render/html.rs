//! The audit as one self-contained HTML file: the account × region matrix,
//! details per cell on hover and click, filters by finding kind, and the
//! run's time, fleet file hash and counts. No network, no external script,
//! style or font: it opens from a CI artifact in any browser.

use std::fmt::Write as _;

use super::matrix::{Cell, Grid, short_region};
use crate::engine::audit::{AuditReport, Status};

/// Where the audit came from, for the heading.
pub struct HtmlSource<'a> {
    pub fleet_file: &'a str,
    pub fleet_sha256: &'a str,
    pub created_at: &'a str,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` block: `</` is escaped so
/// no text can close the script element.
fn script_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace("</", "<\\/")
}

/// One cell's details, as the page's script reads them. The fields are in
/// the order a JSON object's keys were written before (sorted by name), so
/// the report is byte for byte what it was.
#[derive(serde::Serialize)]
struct Details {
    detail: String,
    status: &'static str,
    target: String,
    text: String,
    warnings: Vec<String>,
    who: Option<String>,
}

fn class(cell: Cell) -> &'static str {
    match cell {
        Cell::InUse => "inuse",
        Cell::Compliant => "compliant",
        Cell::Drift => "drift",
        Cell::Missing => "missing",
        Cell::Unmanaged => "unmanaged",
        Cell::Unlogged => "unlogged",
        Cell::Error => "error",
        Cell::NotEnabled => "notenabled",
        Cell::NotInScope => "out",
    }
}

const STYLE: &str = r#"
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; background: #fff; }
body { margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
.meta { color: #57606a; font-size: .85rem; margin: 0 0 1rem; }
.meta code { font-size: .8rem; }
.filters { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: 0 0 1rem; padding: 0; list-style: none; font-size: .9rem; }
.filters label { cursor: pointer; white-space: nowrap; }
.wrap { overflow: auto; max-height: 75vh; border: 1px solid #d0d7de; }
table { border-collapse: collapse; font-size: .8rem; }
th, td { padding: 0; text-align: center; }
thead th { position: sticky; top: 0; background: #f6f8fa; padding: .25rem .3rem; font-weight: 600; }
tbody th { position: sticky; left: 0; background: #f6f8fa; text-align: left; padding: 0 .5rem; font-weight: 500; white-space: nowrap; }
td.c { width: 1.6rem; height: 1.4rem; cursor: pointer; border: 1px solid #fff; font-weight: 700; }
td.total, th.total { padding: 0 .5rem; color: #57606a; }
.inuse { background: #a40e26; color: #fff; }
.compliant { background: #dafbe1; color: #1a7f37; }
td.warn { box-shadow: inset 0 -4px 0 #bf8700; }
.drift { background: #fff8c5; color: #9a6700; }
.missing { background: #ffebe9; color: #cf222e; }
.unmanaged { background: #fbefff; color: #8250df; }
.unlogged { background: #ddf4ff; color: #0969da; }
.error { background: #cf222e; color: #fff; }
.notenabled { background: #eef1f4; color: #6e7781; }
.out { background: #f6f8fa; color: #afb8c1; cursor: default; }
td.dim { opacity: .15; }
td.sel { outline: 2px solid #0969da; outline-offset: -2px; }
#detail { margin-top: 1rem; border: 1px solid #d0d7de; padding: .6rem .8rem; min-height: 3rem; }
#detail h2 { font-size: 1rem; margin: 0 0 .3rem; }
#detail pre { background: #f6f8fa; padding: .5rem; overflow: auto; font-size: .8rem; }
"#;

const SCRIPT: &str = r#"
(function () {
  var body = document.body;
  window.addEventListener('error', function () {
    body.dataset.errors = String(Number(body.dataset.errors || 0) + 1);
  });
  var details = JSON.parse(document.getElementById('details').textContent);
  var cells = document.querySelectorAll('td.c');
  var counts = {};
  cells.forEach(function (td) { counts[td.dataset.k] = (counts[td.dataset.k] || 0) + 1; });
  body.dataset.cells = String(cells.length);
  Object.keys(counts).forEach(function (k) { body.dataset['count' + k.charAt(0).toUpperCase() + k.slice(1)] = String(counts[k]); });
  function applyFilters() {
    var on = {};
    document.querySelectorAll('.filters input').forEach(function (box) { on[box.value] = box.checked; });
    cells.forEach(function (td) { td.classList.toggle('dim', on[td.dataset.k] === false); });
  }
  document.querySelectorAll('.filters input').forEach(function (box) { box.addEventListener('change', applyFilters); });
  document.getElementById('matrix').addEventListener('mouseover', function (event) {
    var td = event.target.closest('td.c');
    if (td && td.dataset.i !== undefined && !td.title) {
      var d = details[Number(td.dataset.i)];
      td.title = d.target + ': ' + d.status + ' \u2014 ' + d.detail +
        (d.who ? '\n' + d.who : '') +
        (d.warnings.length ? '\nwarnings: ' + d.warnings.join('; ') : '');
    }
  });
  var panel = document.getElementById('detail');
  var selected = null;
  document.getElementById('matrix').addEventListener('click', function (event) {
    var td = event.target.closest('td.c');
    if (!td || td.dataset.k === 'out') { return; }
    if (selected) { selected.classList.remove('sel'); }
    selected = td;
    td.classList.add('sel');
    var d = details[Number(td.dataset.i)];
    panel.textContent = '';
    var h = document.createElement('h2');
    h.textContent = d.target + ': ' + d.status;
    panel.appendChild(h);
    var p = document.createElement('p');
    p.textContent = d.detail;
    panel.appendChild(p);
    if (d.who) {
      var who = document.createElement('p');
      who.className = 'who';
      who.textContent = d.who;
      panel.appendChild(who);
    }
    if (d.warnings.length) {
      var list = document.createElement('ul');
      list.className = 'warnings';
      d.warnings.forEach(function (w) {
        var li = document.createElement('li');
        li.textContent = 'warning: ' + w;
        list.appendChild(li);
      });
      panel.appendChild(list);
    }
    if (d.text) {
      var pre = document.createElement('pre');
      pre.textContent = d.text;
      panel.appendChild(pre);
    }
  });
  // `report.html#cell=ACCOUNT/REGION` opens on that target's details.
  if (location.hash.indexOf('#cell=') === 0) {
    var wanted = decodeURIComponent(location.hash.slice(6));
    cells.forEach(function (td) {
      if (td.dataset.i !== undefined && details[Number(td.dataset.i)].target === wanted) { td.click(); }
    });
  }
  body.dataset.ready = 'true';
})();
"#;

/// The whole report as one HTML document.
pub fn report(report: &AuditReport, source: &HtmlSource<'_>) -> String {
    let grid = Grid::new(report);
    let mut html = String::with_capacity(256 + grid.accounts.len() * grid.regions.len() * 90);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>fleet audit {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(source.created_at)
    );
    let counts = report.counts();
    let _ = write!(
        html,
        "<h1>Bedrock model invocation logging audit</h1>\n<p class=\"meta\">{} · <code>{}</code> sha256 <code>{}</code> · {} targets in {} accounts × {} regions · {} findings, {} errors, {} warnings</p>\n",
        escape(source.created_at),
        escape(source.fleet_file),
        escape(source.fleet_sha256),
        counts.targets,
        grid.accounts.len(),
        grid.regions.len(),
        counts.findings(),
        counts.error,
        counts.warnings()
    );
    for region in report.unreported_flags() {
        let _ = writeln!(
            html,
            "<p class=\"meta\">Note: {}.</p>",
            escape(&super::unreported_note(&region))
        );
    }
    html.push_str("<ul class=\"filters\">\n");
    for cell in Cell::ALL {
        let _ = writeln!(
            html,
            "<li><label><input type=\"checkbox\" value=\"{}\" checked> <span class=\"{}\">&nbsp;{}&nbsp;</span> {} <b>{}</b></label></li>",
            class(cell),
            class(cell),
            cell.symbol(),
            cell.name(),
            grid.count(cell)
        );
    }
    html.push_str(
        "</ul>\n<div class=\"wrap\">\n<table id=\"matrix\">\n<thead><tr><th>account</th>",
    );
    for region in &grid.regions {
        let _ = write!(html, "<th title=\"{region}\">{}</th>", short_region(region));
    }
    html.push_str("<th class=\"total\">findings</th></tr></thead>\n<tbody>\n");
    let mut details = Vec::new();
    for (row, account) in grid.accounts.iter().enumerate() {
        let _ = write!(html, "<tr><th>{}</th>", escape(account));
        let mut findings = 0;
        for column in 0..grid.regions.len() {
            let cell = grid.cell(row, column);
            findings += usize::from(cell.is_finding());
            match grid.audit(row, column) {
                None => html
                    .push_str("<td class=\"c out\" data-k=\"out\" title=\"not in scope\">·</td>"),
                Some(audit) => {
                    let detail = audit.detail();
                    let mut text = match (&audit.live, audit.status) {
                        (Err(err), _) => format!("{}: {}", err.code, err.message),
                        (_, Status::Drift) => audit.diff(),
                        _ => String::new(),
                    };
                    for drift in &audit.destination_drift {
                        text.push_str(&drift.diff);
                    }
                    // The tooltip is filled in from the details on hover: a
                    // title per cell would double the size of a large report.
                    let _ = write!(
                        html,
                        "<td class=\"c {}{}\" data-k=\"{}\" data-i=\"{}\">{}</td>",
                        class(cell),
                        if audit.warnings.is_empty() {
                            ""
                        } else {
                            " warn"
                        },
                        class(cell),
                        details.len(),
                        cell.symbol()
                    );
                    details.push(Details {
                        target: audit.target().id().to_string(),
                        status: audit.status.as_str(),
                        detail,
                        text,
                        who: audit.attribution.as_ref().map(|a| a.describe()),
                        warnings: audit
                            .warnings
                            .iter()
                            .map(|w| format!("{}: {}", w.kind.as_str(), w.detail))
                            .collect(),
                    });
                }
            }
        }
        let _ = writeln!(html, "<td class=\"total\">{findings}</td></tr>");
    }
    html.push_str("</tbody>\n</table>\n</div>\n<section id=\"detail\"><p>Click a cell for its details: the diff for drift, the AWS error for errors.</p></section>\n");
    let _ = write!(
        html,
        "<script type=\"application/json\" id=\"details\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&details)
    );
    html
}
