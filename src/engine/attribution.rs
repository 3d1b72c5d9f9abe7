//! Who changed logging: for every target an audit finds changed (drift,
//! missing, unmanaged, a drifted managed destination), the newest write of
//! the logging configuration that CloudTrail recorded in its account and
//! region: who, when, and from where.
//!
//! Looked up only for those targets, once per target, at most `concurrency`
//! places at a time; `aws/` keeps CloudTrail's rate of two lookups per
//! second per account and region. A lookup that fails says "cannot tell"
//! with the reason and never fails the audit.

use serde::{Deserialize, Serialize};

use super::audit::{AuditReport, Status, TargetAudit};
use super::{ApiError, Location, Progress, location_of};

/// The two calls that write Bedrock's logging configuration.
pub const WRITE_EVENTS: [&str; 2] = [
    "PutModelInvocationLoggingConfiguration",
    "DeleteModelInvocationLoggingConfiguration",
];

/// One write of the logging configuration, as CloudTrail recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteEvent {
    /// `PutModelInvocationLoggingConfiguration` or
    /// `DeleteModelInvocationLoggingConfiguration`.
    pub event_name: String,
    /// RFC 3339, UTC.
    pub event_time: String,
    /// `userIdentity.arn`: for a role, `arn:…:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub principal_arn: String,
    /// `sourceIPAddress`: an address, or a service name for a call AWS
    /// made on somebody's behalf.
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Set when the call failed (CloudTrail records refused calls too).
    pub error_code: Option<String>,
}

impl WriteEvent {
    /// The session name of an assumed-role principal.
    pub fn session_name(&self) -> Option<&str> {
        let rest = self.principal_arn.split_once(":assumed-role/")?.1;
        rest.split_once('/').map(|(_, session)| session)
    }

    fn is_delete(&self) -> bool {
        self.event_name.starts_with("Delete")
    }
}

/// What CloudTrail says of the newest change at one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attribution {
    /// The newest successful write; `by_fleet` when it was made under
    /// fleet's session name.
    Changed { event: WriteEvent, by_fleet: bool },
    /// CloudTrail has no successful write in the 90 days of management
    /// events it keeps for lookup.
    NoEvent,
    /// The lookup failed (denied, throttled, not served).
    CannotTell(ApiError),
}

impl Attribution {
    /// One line for tables, tooltips and reports.
    pub fn describe(&self) -> String {
        match self {
            Attribution::Changed { event, by_fleet } => {
                let verb = if event.is_delete() {
                    "deleted"
                } else {
                    "last set"
                };
                let who = if *by_fleet {
                    format!("fleet ({})", event.principal_arn)
                } else {
                    event.principal_arn.clone()
                };
                let mut line = format!("{verb} by {who} at {}", event.event_time);
                if let Some(ip) = &event.source_ip {
                    line.push_str(&format!(" from {ip}"));
                }
                if let Some(agent) = &event.user_agent {
                    line.push_str(&format!(" ({agent})"));
                }
                line
            }
            Attribution::NoEvent => {
                "who changed it: CloudTrail has no write of the logging configuration here in the last 90 days".to_owned()
            }
            Attribution::CannotTell(err) => format!("who changed it: cannot tell ({err})"),
        }
    }
}

/// The CloudTrail lookup fleet makes, per account × region.
pub trait TrailApi: Sync {
    /// The recorded Put and Delete events of the logging configuration in
    /// the place, any order, failed ones included.
    fn logging_writes(
        &self,
        at: Location<'_>,
    ) -> impl Future<Output = Result<Vec<WriteEvent>, ApiError>> + Send;
}

/// Whether an audited target is worth asking CloudTrail about: something
/// there is not as fleet keeps it.
pub fn wants_attribution(audit: &TargetAudit) -> bool {
    matches!(
        audit.status,
        Status::Drift | Status::Missing | Status::Unmanaged
    ) || audit.destination_drift.iter().any(|d| d.error.is_none())
}

/// The attribution from what CloudTrail returned: the newest successful
/// write that explains what is there — a Delete where nothing is set, a Put
/// where something is — else the newest successful write of either kind.
/// CloudTrail's times are whole seconds: of two writes in the same second,
/// the one CloudTrail lists first (it lists newest first) wins.
pub fn attribution_of(
    events: Vec<WriteEvent>,
    fleet_session: &str,
    live_is_set: bool,
) -> Attribution {
    let newest = |explains: bool| {
        events
            .iter()
            .filter(|e| e.error_code.is_none())
            .filter(|e| !explains || e.is_delete() != live_is_set)
            .fold(None::<&WriteEvent>, |best, e| match best {
                Some(best) if e.event_time <= best.event_time => Some(best),
                _ => Some(e),
            })
            .cloned()
    };
    let newest = newest(true).or_else(|| newest(false));
    match newest {
        Some(event) => Attribution::Changed {
            by_fleet: event.session_name() == Some(fleet_session),
            event,
        },
        None => Attribution::NoEvent,
    }
}

/// Looks up who changed every target of `report` that
/// [`wants_attribution`], at most `concurrency` at a time, and records it on
/// the target.
pub async fn attribute<A: TrailApi>(
    api: &A,
    report: &mut AuditReport,
    fleet_session: &str,
    concurrency: usize,
    progress: &dyn Progress,
) {
    let found = super::look_up(
        &report.targets,
        wants_attribution,
        concurrency,
        progress,
        |audit| async move {
            let live_is_set = matches!(audit.live, Ok(Some(_)));
            match api.logging_writes(location_of(audit.target())).await {
                Ok(events) => attribution_of(events, fleet_session, live_is_set),
                Err(err) => Attribution::CannotTell(err),
            }
        },
    )
    .await;
    for (i, attribution) in found {
        report.targets[i].attribution = Some(attribution);
    }
}

/// For every target of `plan` to update or delete (its live configuration
/// differs), whether the newest write is somebody else's: records those on
/// the plan, and returns the lookups that failed (with the target index).
/// Targets to create are not looked up: a first rollout would otherwise
/// ask CloudTrail about every target.
pub async fn find_changed_outside<A: TrailApi>(
    api: &A,
    plan: &mut super::Plan,
    fleet_session: &str,
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<(usize, ApiError)> {
    use super::Action;
    let found = super::look_up(
        &plan.targets,
        |t| matches!(t.action(), Some(Action::Update | Action::Delete)),
        concurrency,
        progress,
        |t| async move {
            api.logging_writes(location_of(&t.target))
                .await
                .map(|events| attribution_of(events, fleet_session, true))
        },
    )
    .await;
    let mut failed = Vec::new();
    for (i, found) in found {
        match found {
            Ok(Attribution::Changed {
                event,
                by_fleet: false,
            }) => plan.changed_outside.push((i, event)),
            Ok(_) => {}
            Err(err) => failed.push((i, err)),
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, time: &str, arn: &str, error: Option<&str>) -> WriteEvent {
        WriteEvent {
            event_name: name.to_owned(),
            event_time: time.to_owned(),
            principal_arn: arn.to_owned(),
            source_ip: Some("10.0.0.1".to_owned()),
            user_agent: Some("aws-cli/2".to_owned()),
            error_code: error.map(str::to_owned),
        }
    }

    #[test]
    fn the_newest_successful_write_wins_and_fleet_is_known_by_its_session() {
        let alice = "arn:aws:sts::111111111111:assumed-role/Admin/alice";
        let fleet = "arn:aws:sts::111111111111:assumed-role/FleetRole/fleet";
        let events = vec![
            event(WRITE_EVENTS[0], "2026-11-01T10:00:00Z", fleet, None),
            event(WRITE_EVENTS[1], "2026-11-03T10:00:00Z", alice, None),
            // Newer, but refused: not the change that is there.
            event(
                WRITE_EVENTS[0],
                "2026-11-04T10:00:00Z",
                alice,
                Some("AccessDenied"),
            ),
        ];
        let Attribution::Changed { event, by_fleet } =
            attribution_of(events.clone(), "fleet", false)
        else {
            panic!("expected a change");
        };
        assert_eq!(event.principal_arn, alice);
        assert!(!by_fleet);
        assert_eq!(
            Attribution::Changed {
                event: event.clone(),
                by_fleet
            }
            .describe(),
            format!("deleted by {alice} at 2026-11-03T10:00:00Z from 10.0.0.1 (aws-cli/2)")
        );
        let only_fleet = vec![events[0].clone()];
        assert!(matches!(
            attribution_of(only_fleet, "fleet", true),
            Attribution::Changed { by_fleet: true, .. }
        ));
        assert_eq!(
            attribution_of(vec![events[2].clone()], "fleet", true),
            Attribution::NoEvent
        );
        // Where logging is set, the Put explains it, even when a Delete of
        // the same second is listed first; where nothing is, the Delete.
        let same_second = vec![
            self::event(WRITE_EVENTS[1], "2026-11-05T10:00:00Z", alice, None),
            self::event(WRITE_EVENTS[0], "2026-11-05T10:00:00Z", fleet, None),
        ];
        assert!(matches!(
            attribution_of(same_second.clone(), "fleet", true),
            Attribution::Changed { by_fleet: true, .. }
        ));
        assert!(matches!(
            attribution_of(same_second, "fleet", false),
            Attribution::Changed {
                by_fleet: false,
                ..
            }
        ));
    }

    #[test]
    fn session_names_come_from_assumed_role_arns_only() {
        let e = event(WRITE_EVENTS[0], "t", "arn:aws:iam::1:user/bob", None);
        assert_eq!(e.session_name(), None);
        let e = event(
            WRITE_EVENTS[0],
            "t",
            "arn:aws:sts::1:assumed-role/R/s-1",
            None,
        );
        assert_eq!(e.session_name(), Some("s-1"));
    }
}
