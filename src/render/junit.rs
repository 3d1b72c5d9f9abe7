//! The audit as JUnit XML, for CI test dashboards: one test case per target,
//! grouped in one suite per account; a finding is a failure, an unreadable
//! target an error, a region the account has not enabled is skipped.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::engine::audit::{AuditReport, Status, TargetAudit};

/// What one target's test case says.
enum Outcome {
    Passed,
    Failed {
        kind: String,
        message: String,
        body: String,
    },
    Errored {
        kind: String,
        message: String,
    },
    Skipped(String),
}

fn outcome(audit: &TargetAudit, strict: bool) -> Outcome {
    match (&audit.live, audit.status) {
        (Err(_), Status::NotEnabled) => Outcome::Skipped(audit.detail()),
        (Err(err), _) => Outcome::Errored {
            kind: err.code.to_string(),
            message: err.message.clone(),
        },
        (Ok(_), Status::Compliant) if strict && !audit.warnings.is_empty() => {
            let kinds: Vec<&str> = audit.warnings.iter().map(|w| w.kind.as_str()).collect();
            let details: Vec<&str> = audit.warnings.iter().map(|w| w.detail.as_str()).collect();
            Outcome::Failed {
                kind: kinds.join(","),
                message: details.join("; "),
                body: String::new(),
            }
        }
        (Ok(_), Status::Compliant) => Outcome::Passed,
        // A target whose worst finding does not fail the audit (an idle
        // unlogged region without --strict) passes, as the audit does.
        (Ok(_), _) if audit.severity().is_some_and(|s| !s.fails(strict)) => Outcome::Passed,
        (Ok(_), status) => Outcome::Failed {
            kind: status.as_str().to_owned(),
            message: match &audit.attribution {
                Some(who) => format!("{}; {}", audit.detail(), who.describe()),
                None => audit.detail(),
            },
            body: audit.diff(),
        },
    }
}

fn write_xml(report: &AuditReport, strict: bool) -> quick_xml::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let outcomes: Vec<(&TargetAudit, Outcome)> = report
        .targets
        .iter()
        .map(|audit| (audit, outcome(audit, strict)))
        .collect();
    let count = |of: &[&(&TargetAudit, Outcome)]| {
        let failures = of
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed { .. }))
            .count();
        let errors = of
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Errored { .. }))
            .count();
        let skipped = of
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Skipped(_)))
            .count();
        (of.len(), failures, errors, skipped)
    };
    let all: Vec<&(&TargetAudit, Outcome)> = outcomes.iter().collect();
    let (tests, failures, errors, skipped) = count(&all);
    let totals = [
        ("name", "fleet audit".to_owned()),
        ("tests", tests.to_string()),
        ("failures", failures.to_string()),
        ("errors", errors.to_string()),
        ("skipped", skipped.to_string()),
    ];
    writer.write_event(Event::Start(
        BytesStart::new("testsuites").with_attributes(totals.iter().map(|(k, v)| (*k, v.as_str()))),
    ))?;
    let mut accounts: Vec<&str> = Vec::new();
    for (audit, _) in &outcomes {
        let label = audit.target().account.label();
        if !accounts.contains(&label) {
            accounts.push(label);
        }
    }
    for account in accounts {
        let cases: Vec<&(&TargetAudit, Outcome)> = outcomes
            .iter()
            .filter(|(audit, _)| audit.target().account.label() == account)
            .collect();
        let (tests, failures, errors, skipped) = count(&cases);
        let attributes = [
            ("name", account.to_owned()),
            ("tests", tests.to_string()),
            ("failures", failures.to_string()),
            ("errors", errors.to_string()),
            ("skipped", skipped.to_string()),
        ];
        writer.write_event(Event::Start(
            BytesStart::new("testsuite")
                .with_attributes(attributes.iter().map(|(k, v)| (*k, v.as_str()))),
        ))?;
        for (audit, outcome) in cases {
            let name = audit.target().id().to_string();
            let classname = format!("fleet.audit.{account}");
            let case = BytesStart::new("testcase")
                .with_attributes([("classname", classname.as_str()), ("name", name.as_str())]);
            if matches!(outcome, Outcome::Passed) {
                writer.write_event(Event::Empty(case))?;
                continue;
            }
            writer.write_event(Event::Start(case))?;
            match outcome {
                Outcome::Passed => {}
                Outcome::Failed {
                    kind,
                    message,
                    body,
                } => {
                    let element = BytesStart::new("failure")
                        .with_attributes([("type", kind.as_str()), ("message", message.as_str())]);
                    if body.is_empty() {
                        writer.write_event(Event::Empty(element))?;
                    } else {
                        writer.write_event(Event::Start(element))?;
                        writer.write_event(Event::Text(BytesText::new(body)))?;
                        writer.write_event(Event::End(BytesEnd::new("failure")))?;
                    }
                }
                Outcome::Errored { kind, message } => {
                    writer.write_event(Event::Empty(BytesStart::new("error").with_attributes(
                        [("type", kind.as_str()), ("message", message.as_str())],
                    )))?;
                }
                Outcome::Skipped(message) => {
                    writer.write_event(Event::Empty(
                        BytesStart::new("skipped").with_attributes([("message", message.as_str())]),
                    ))?;
                }
            }
            writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut xml = writer.into_inner();
    xml.push(b'\n');
    Ok(xml)
}

/// Writes the JUnit XML report. With `strict`, best-practice warnings fail
/// their target as findings do (as `--strict` makes them fail the audit).
pub fn junit(out: &mut dyn Write, report: &AuditReport, strict: bool) -> io::Result<()> {
    let xml = write_xml(report, strict).map_err(io::Error::other)?;
    out.write_all(&xml)
}
