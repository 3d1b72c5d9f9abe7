//! The command line, as clap derive definitions only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fleet_emulator::FaultRule;

use crate::engine::select::Partition;

// Exit codes, per command (DESIGN §3). Lines stay under 80 columns so that
// clap does not wrap them in a usual terminal.
const EXIT_CODES: &str = "\
Exit codes (each command's --help says what its own mean):
  0  success: valid, planned, applied, compliant, printed
  1  an error: a bad file or arguments, a target that could not be read,
     a write that failed; usage errors exit 1 too
  2  `plan --detailed-exitcode`: changes present; `audit`: findings";

const VALIDATE_EXIT: &str = "\
Exit codes:
  0  the file is valid
  1  it is not (every problem is printed, with file:line:col), or it
     cannot be read";

const TARGETS_EXIT: &str = "\
Exit codes:
  0  every target resolved
  1  a bad file, an organizational unit that cannot be listed, entries
     that disagree, or an account that could not be resolved";

const PLAN_EXIT: &str = "\
Exit codes:
  0  success: no changes, or changes without --detailed-exitcode
  1  an error: a target could not be read, a bad file, AWS unreachable,
     or problems with --preflight strict
  2  changes present, with --detailed-exitcode";

const APPLY_EXIT: &str = "\
Exit codes:
  0  every change applied and verified (with a saved plan, targets that
     already equal the plan count as applied)
  1  anything failed, was stale, not attempted or not verified, or the
     apply was not approved; nothing is reported applied that was not";

const AUDIT_EXIT: &str = "\
Exit codes:
  0  compliant; best-practice warnings alone exit 0 without --strict
  1  some target could not be read, or a Security Hub export failed (wins
     over 2), or a bad file
  2  findings: drift, missing, unmanaged or unlogged regions (without
     --strict, warnings never make exit 2; with --strict they do)";

const SHOW_EXIT: &str = "\
Exit codes:
  0  every target was read
  1  a target could not be read (it gets an `error`), or a bad file";

const IMPORT_EXIT: &str = "\
Exit codes:
  0  the fleet file was printed
  1  a target could not be read (then nothing is printed), or bad
     arguments";

const REPORT_EXIT: &str = "\
Exit codes:
  0  the plans were rendered
  1  a plan cannot be read, plans that cannot be merged, or a plan with
     targets that could not be read when it was made";

const POLICY_EXIT: &str = "\
Exit codes:
  0  the documents were printed
  1  a bad file, or no profile that logs matches --profile";

const EMULATOR_EXIT: &str = "\
Exit codes:
  0  stopped by Ctrl-C or SIGTERM
  1  it could not listen on --listen (a non-loopback address needs
     --allow-remote), or bad --fault rules";

const DEMO_EXIT: &str = "\
Exit codes:
  0  plan → apply → plan converged
  1  it did not, or -c names a file the demo cannot run";

/// Keep Amazon Bedrock model invocation logging consistent across every
/// account and region of an AWS organisation.
#[derive(Debug, Parser)]
#[command(name = "fleet", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// The fleet file [default: fleet.toml].
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to colour output (NO_COLOR is honoured by `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    /// Print only results: no warnings, no progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more about what is happening, on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the fleet file and print how many targets it manages; no network.
    #[command(after_help = VALIDATE_EXIT)]
    Validate,
    /// List every target (account × region → profile) and where it came from,
    /// resolving organizational units and enabled regions.
    #[command(after_help = TARGETS_EXIT)]
    Targets(TargetsArgs),
    /// Read every target and show what apply would change.
    #[command(after_help = PLAN_EXIT)]
    Plan(PlanArgs),
    /// Write the targets that differ, from a fresh plan or a saved one.
    #[command(after_help = APPLY_EXIT)]
    Apply(ApplyArgs),
    /// Report, org-wide, every region whose logging is missing, drifted or unmanaged.
    #[command(after_help = AUDIT_EXIT)]
    Audit(AuditArgs),
    /// Print the live configuration of each target, named like the Terraform module's outputs.
    #[command(after_help = SHOW_EXIT)]
    Show(ShowArgs),
    /// Read live configurations and print a fleet file for them on stdout.
    #[command(after_help = IMPORT_EXIT)]
    Import(ImportArgs),
    /// Render saved plans, or merge the plans of several shards into one.
    #[command(after_help = REPORT_EXIT)]
    Report(ReportArgs),
    /// Print the bucket policy, CloudWatch role policies and fleet's own role policy a profile needs.
    #[command(after_help = POLICY_EXIT)]
    Policy(PolicyArgs),
    /// Run plan → apply → plan against a local emulator: on the built-in
    /// example, or on the fleet file given with -c.
    #[command(after_help = DEMO_EXIT)]
    Demo(DemoArgs),
    /// Serve the local emulator: Bedrock logging, STS, and the S3, IAM and CloudWatch Logs calls of destinations.
    #[command(after_help = EMULATOR_EXIT)]
    Emulator(EmulatorArgs),
    /// Print the shell completion script for SHELL on stdout.
    Completions(CompletionsArgs),
    /// Print fleet's man page (roff) on stdout.
    Man,
}

/// The shells `fleet completions` writes scripts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
  bash        fleet completions bash > ~/.local/share/bash-completion/completions/fleet
  zsh         fleet completions zsh > \"${fpath[1]}/_fleet\"
  fish        fleet completions fish > ~/.config/fish/completions/fleet.fish
  powershell  fleet completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// How fleet talks to AWS.
#[derive(Clone, Debug, Args)]
pub struct AwsArgs {
    /// Calls in flight at once (default: [fleet] concurrency, else 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,

    /// Attempts per call, first one included, for throttling, 5xx, timeouts
    /// and dropped connections.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,

    /// Seconds to wait for a TCP/TLS connection.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = positive_seconds)]
    pub connect_timeout: Duration,

    /// Seconds for one call, retries included.
    #[arg(long, value_name = "SECONDS", default_value = "90", value_parser = positive_seconds)]
    pub operation_timeout: Duration,

    /// Seconds for one attempt of one call.
    #[arg(long, value_name = "SECONDS", default_value = "20", value_parser = positive_seconds)]
    pub attempt_timeout: Duration,
}

/// Which targets a command covers.
#[derive(Clone, Debug, Default, Args)]
pub struct FilterArgs {
    /// Only targets matching this glob on ACCOUNT/REGION (repeatable;
    /// `prod` alone means `prod/*`); one that matches nothing is an error.
    #[arg(long = "target", value_name = "GLOB")]
    pub targets: Vec<String>,

    /// Leave out targets matching this glob (repeatable); one that matches
    /// nothing is a warning.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<String>,

    /// Only shard K of N (1-based) of a stable hash of account_id/region:
    /// N CI jobs with K = 1..N cover every target once.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<Partition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

/// What preflight does with the problems it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PreflightMode {
    /// Report problems as warnings.
    Warn,
    /// Problems (and checks that could not run) are errors: exit 1, no write.
    Strict,
    /// Do not check destinations.
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Markdown,
    Csv,
    /// Accounts × regions, one symbol per cell.
    Matrix,
    /// One self-contained HTML report (use with --out).
    Html,
    /// SARIF 2.1.0 for GitHub code scanning: findings annotate the fleet file.
    Sarif,
    /// JUnit XML for CI test dashboards: a test case per target.
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Scan every region of fleet's built-in list of Bedrock regions for
    /// each account, not only its managed ones.
    #[arg(long)]
    pub all_regions: bool,

    /// How to print the findings on stdout.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,

    /// Best-practice warnings are findings too (exit 2); without it they are
    /// reported but never change the exit code.
    #[arg(long)]
    pub strict: bool,

    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Days of CloudWatch metrics to read for whether Bedrock is used in
    /// an unlogged or missing region (AWS/Bedrock Invocations): in use is
    /// critical, idle is informational.
    #[arg(long, value_name = "DAYS", default_value_t = crate::engine::usage::DEFAULT_WINDOW_DAYS, value_parser = clap::value_parser!(u32).range(1..=455))]
    pub usage_window: u32,

    /// Do not read the usage metrics: unlogged regions stay findings.
    #[arg(long)]
    pub no_usage: bool,

    /// Do not ask CloudTrail who made the changes audit finds.
    #[arg(long)]
    pub no_attribution: bool,

    /// Also import every finding into AWS Security Hub, in the target's own
    /// account and region (BatchImportFindings): a rerun updates the same
    /// findings, and those fixed since are marked resolved.
    #[arg(long)]
    pub to_security_hub: bool,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// How to print the live values on stdout.
    #[arg(long, value_enum, default_value_t = ShowFormat::Human)]
    pub format: ShowFormat,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An account to read, as ID or ID=NAME (repeatable).
    #[arg(long = "account", value_name = "ID[=NAME]", required = true)]
    pub accounts: Vec<String>,

    /// The regions to read, comma-separated.
    #[arg(long, value_name = "R,R…", value_delimiter = ',', required = true)]
    pub regions: Vec<String>,

    /// The role to assume in accounts that are not the caller's; written to
    /// the file as [fleet] role_name.
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,

    /// Also manage targets with no logging, with an `enabled = false` profile.
    #[arg(long)]
    pub include_absent: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Only this profile (default: every profile that logs).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Expand placeholders for this account (needs --region).
    #[arg(long, value_name = "ID", requires = "region")]
    pub account: Option<String>,

    /// Expand placeholders for this region (needs --account).
    #[arg(long, value_name = "REGION", requires = "account")]
    pub region: Option<String>,

    /// Print instead an Organizations service control policy that denies
    /// changing or deleting the logging, and weakening the destinations
    /// fleet manages, to every principal but fleet's roles.
    #[arg(long, conflicts_with_all = ["account", "region"])]
    pub scp: bool,

    /// With --scp: a role name that may still change logging (break glass).
    #[arg(long, value_name = "ROLE_NAME", requires = "scp")]
    pub break_glass_role: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetsFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// How to print the targets on stdout.
    #[arg(long, value_enum, default_value_t = TargetsFormat::Human)]
    pub format: TargetsFormat,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print every target's and destination's diff in the demo's plans, instead of each
    /// distinct change once followed by the targets it applies to.
    #[arg(long)]
    pub each_diff: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Saved plans (`fleet plan --out`); several shards are merged into one.
    #[arg(value_name = "PLAN.json", required = true)]
    pub plans: Vec<PathBuf>,

    /// How to print the merged plan on stdout.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Render an incomplete set of shards (some `--partition K/N` plans
    /// missing) instead of refusing it; every format then says it is partial.
    #[arg(long)]
    pub allow_partial: bool,

    /// Print every target's and destination's diff in the human plan, instead of each
    /// distinct change once followed by the targets it applies to.
    #[arg(long)]
    pub each_diff: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan as JSON for `fleet apply PLAN`.
    #[arg(long, value_name = "PLAN.json")]
    pub out: Option<PathBuf>,

    /// How to print the plan on stdout.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Exit 2 when there are changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Check the destinations of every target that changes.
    #[arg(long, value_enum, default_value_t = PreflightMode::Warn)]
    pub preflight: PreflightMode,

    /// Record in the saved plan that its changes that weaken logging were
    /// reviewed and may be applied under `[fleet] protect = true`.
    #[arg(long)]
    pub allow_weakening: bool,

    /// Do not ask CloudTrail who changed the targets to update or delete.
    #[arg(long)]
    pub no_attribution: bool,

    /// Print every target's and destination's diff in the human plan, instead of each
    /// distinct change once followed by the targets it applies to.
    #[arg(long)]
    pub each_diff: bool,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `fleet plan --out`: applied as reviewed, without a
    /// prompt, or not at all if any target changed since.
    #[arg(value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,

    /// Apply without asking (needed when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// Start no new write after N writes failed.
    #[arg(long, value_name = "N")]
    pub max_failures: Option<usize>,

    /// Check the destinations of every target that changes (without a
    /// plan file; a saved plan carries the findings of its plan).
    #[arg(long, value_enum, default_value_t = PreflightMode::Warn)]
    pub preflight: PreflightMode,

    /// Apply changes that weaken logging although `[fleet] protect = true`
    /// (without a plan file; a saved plan applies what was reviewed).
    #[arg(long)]
    pub allow_weakening: bool,

    /// Seconds to keep retrying a write that AWS rejects with "Failed to
    /// validate permissions" (a new role or policy not yet propagated).
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = seconds)]
    pub permission_retry: Duration,

    /// Print every target's and destination's diff in the plan shown before the prompt, instead of each
    /// distinct change once followed by the targets it applies to.
    #[arg(long)]
    pub each_diff: bool,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on; a non-loopback address is refused unless
    /// --allow-remote is given.
    #[arg(long, default_value = "127.0.0.1:4599", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Allow a non-loopback --listen (e.g. 0.0.0.0:4599). The admin API
    /// (/_emulator/*) then lets anyone who can reach the port rewrite the
    /// emulator's state.
    #[arg(long)]
    pub allow_remote: bool,

    /// Latency added to every AWS call, in milliseconds.
    #[arg(long, default_value = "0", value_name = "N", value_parser = milliseconds)]
    pub latency_ms: Duration,

    /// Inject faults, repeatable: KIND:RATE[:SCOPE[:OPS]], KIND one of throttle, error500, drop, slow, denied, iam_lag; SCOPE a glob on ACCOUNT/REGION; OPS get,put,delete,assume_role,get_caller_identity, a destination call (create_bucket, get_role, put_retention_policy, …), lookup_events, get_metric_data, or a group bedrock,sts,s3,iam,logs,cloudtrail,cloudwatch,* (default: the Bedrock calls).
    #[arg(long = "fault", value_name = "KIND:RATE[:SCOPE[:OPS]]")]
    pub faults: Vec<FaultRule>,

    /// Seed for fault decisions; the same seed gives the same faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Leave flags out of Get in a region, as AWS does where a modality is
    /// not offered (repeatable): REGION:MODALITY[,MODALITY…], modalities text,
    /// image, embedding, video, audio. Replaces the built-in table
    /// (ca-west-1:video, from terraform-provider-aws #49569); `none` empties it.
    #[arg(long = "omit-flags", value_name = "REGION:FLAGS")]
    pub omit_flags: Vec<String>,

    /// Longest AssumeRole session in seconds; later calls signed with it
    /// answer 400 ExpiredTokenException, as AWS does.
    #[arg(long, value_name = "SECONDS", value_parser = whole_seconds)]
    pub session_lifetime: Option<Duration>,

    /// Check a Put's destinations against the emulator's S3, IAM and Logs
    /// state, as AWS does: a missing log group, a role that does not trust
    /// bedrock.amazonaws.com or cannot write to the group, or a bucket that
    /// is missing, in another region or whose policy does not let Bedrock
    /// write answers 400 ValidationException "Failed to validate permissions …".
    #[arg(long)]
    pub validate_destinations: bool,
}

/// A number of seconds (`120`, `0.5`, `0`).
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|_| {
        format!("`{text}` is not a usable number of seconds (negative, not finite, or too large)")
    })
}

/// A number of seconds greater than zero: a timeout of zero would fail
/// every call.
fn positive_seconds(text: &str) -> Result<Duration, String> {
    seconds(text)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("must be a positive number of seconds, not {text}"))
}

/// A whole number of seconds.
fn whole_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse()
        .map(Duration::from_secs)
        .map_err(|_| format!("`{text}` is not a whole number of seconds"))
}

/// A whole number of milliseconds.
fn milliseconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse()
        .map(Duration::from_millis)
        .map_err(|_| format!("`{text}` is not a whole number of milliseconds"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks of the definition (duplicate flags,
    /// bad defaults, conflicting names), which it otherwise runs only when
    /// a command is parsed.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_from_seconds_and_milliseconds() {
        use std::time::Duration;

        use super::{milliseconds, positive_seconds, seconds, whole_seconds};
        assert_eq!(seconds("120"), Ok(Duration::from_secs(120)));
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        assert!(seconds("-1").is_err());
        assert!(seconds("inf").is_err());
        assert_eq!(positive_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(
            positive_seconds("0"),
            Err("must be a positive number of seconds, not 0".to_owned())
        );
        assert_eq!(whole_seconds("3600"), Ok(Duration::from_secs(3600)));
        assert!(whole_seconds("1.5").is_err());
        assert_eq!(milliseconds("50"), Ok(Duration::from_millis(50)));
    }
}
