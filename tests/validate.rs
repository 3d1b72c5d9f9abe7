//! `fleet validate`: every rule of the fleet file, checked through the real
//! binary, with the message and the line and column it points at.

use assert_cmd::Command;
use predicates::prelude::*;

const PROFILES: &str = r#"
[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "BedrockLoggingAdmin"

[profiles.standard.s3_config]
bucket_name = "logs-{account_id}-{region}"
"#;

/// Runs `fleet validate` on `text` and returns (exit code, stdout, stderr).
fn validate(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.toml");
    std::fs::write(&path, text).unwrap();
    let output = Command::cargo_bin("fleet")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["validate"])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn assert_invalid(text: &str, expected: &[&str]) {
    let (code, stdout, stderr) = validate(text);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.is_empty(),
        "nothing on stdout for an invalid file: {stdout}"
    );
    for piece in expected {
        assert!(stderr.contains(piece), "expected {piece:?} in:\n{stderr}");
    }
    assert!(stderr.contains("nothing was read or written"), "{stderr}");
}

#[test]
fn a_valid_file_prints_the_number_of_targets() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\n\n[[accounts]]\nid = \"222222222222\"\nname = \"dev\"\nprofile = \"standard\"\nregions = [\"us-east-1\"]\n"
    );
    let (code, stdout, stderr) = validate(&text);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "fleet.toml is valid: 3 targets in 2 accounts, 1 profile.\n"
    );
}

#[test]
fn the_example_file_is_valid() {
    Command::cargo_bin("fleet")
        .unwrap()
        .args([
            "-c",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fleet.example.toml"),
            "validate",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("5 targets in 2 accounts"));
}

#[test]
fn bad_toml_syntax_names_line_and_column() {
    assert_invalid(
        "[fleet\nregions = []\n",
        &["fleet.toml:1:7", "unclosed table"],
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let text = format!("{PROFILES}\n[profiles.other]\ntext_data_delivery = true\n");
    assert_invalid(
        &text,
        &[
            "fleet.toml:10:1",
            "unknown field `text_data_delivery`",
            "did you mean `text_data_delivery_enabled`?",
        ],
    );
}

#[test]
fn bad_account_id() {
    let text = format!("{PROFILES}\n[[accounts]]\nid = \"12345\"\nprofile = \"standard\"\n");
    assert_invalid(
        &text,
        &[
            "fleet.toml:10:6",
            "`12345` is not an AWS account id",
            "exactly 12 digits",
        ],
    );
}

#[test]
fn account_id_written_as_a_number() {
    let text = format!("{PROFILES}\n[[accounts]]\nid = 111111111111\nprofile = \"standard\"\n");
    assert_invalid(&text, &["fleet.toml:10:6", "invalid type", "double quotes"]);
}

#[test]
fn unknown_profile_suggests_the_closest() {
    let text = format!("{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standrd\"\n");
    assert_invalid(
        &text,
        &[
            "fleet.toml:11:11",
            "profile `standrd` does not exist",
            "did you mean `standard`?",
        ],
    );
}

#[test]
fn duplicate_account_is_double_ownership() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\n"
    );
    assert_invalid(
        &text,
        &[
            "fleet.toml:14:6",
            "account 111111111111 is listed twice",
            "exactly one entry",
            "line 10",
        ],
    );
}

#[test]
fn duplicate_region_is_double_ownership() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\nregions = [\"us-east-1\", \"us-east-1\"]\n"
    );
    assert_invalid(
        &text,
        &["fleet.toml:12:25", "region us-east-1 is listed twice"],
    );
}

#[test]
fn duplicate_account_name() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\nprofile = \"standard\"\n\n[[accounts]]\nid = \"222222222222\"\nname = \"prod\"\nprofile = \"standard\"\n"
    );
    assert_invalid(
        &text,
        &["fleet.toml:16:8", "account name `prod` is used twice"],
    );
}

#[test]
fn unknown_placeholder() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{acount_id}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:6:15",
            "unknown placeholder `{acount_id}`",
            "{account_id}, {account_name}, {region} and {partition}",
        ],
    );
}

#[test]
fn bad_role_arn_after_expansion() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p.cloudwatch_config]\nlog_group_name = \"/aws/bedrock\"\nrole_arn = \"arn:aws:iam::{account_name}:role/logs\"\n\n[[accounts]]\nid = \"111111111111\"\nname = \"prod\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:7:12",
            "role_arn `arn:aws:iam::prod:role/logs` for prod/us-east-1",
            "is not an IAM role ARN",
        ],
    );
}

#[test]
fn bucket_name_too_long_after_expansion() {
    let text = "[fleet]\nregions = [\"ap-southeast-2\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"a-very-long-bucket-name-for-invocation-logs-{account_id}-{region}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:6:15",
            "for 111111111111/ap-southeast-2",
            "3 to 63",
        ],
    );
}

#[test]
fn profile_without_destination() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p]\nvideo_data_delivery_enabled = false\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:5:11",
            "profile `p` has no logging destination",
            "enabled = false",
        ],
    );
}

#[test]
fn cloudwatch_without_role_arn() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p.cloudwatch_config]\nlog_group_name = \"/aws/bedrock\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:5:1",
            "missing field `role_arn`",
            "add `role_arn = …`",
        ],
    );
}

#[test]
fn second_account_without_a_role() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n\n[[accounts]]\nid = \"222222222222\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &[
            "fleet.toml:12:6",
            "this account has no role to assume",
            "set role_name in [fleet] or role_arn here",
        ],
    );
}

#[test]
fn region_override_must_name_a_managed_region() {
    let text = format!(
        "{PROFILES}\n[profiles.off]\nenabled = false\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\nregion_profiles = {{ \"ap-south-1\" = \"off\" }}\n"
    );
    assert_invalid(
        &text,
        &[
            "fleet.toml:15:21",
            "region_profiles names ap-south-1, which this account does not manage",
        ],
    );
}

#[test]
fn bad_region_name_is_an_error_and_unknown_region_a_warning() {
    let text = "[fleet]\nregions = [\"us-east-1\", \"mars-north-9\", \"useast1\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    assert_invalid(
        text,
        &["fleet.toml:2:41", "`useast1` is not an AWS region name"],
    );
    let warned = "[fleet]\nregions = [\"us-east-1\", \"xx-north-9\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    let (code, stdout, stderr) = validate(warned);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2 targets"), "{stdout}");
    assert!(
        stderr.contains("fleet.toml:2:25")
            && stderr.contains("xx-north-9 is not in fleet's list of Bedrock regions"),
        "{stderr}"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("fleet")
        .unwrap()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "fleet file fleet.toml not found: give its path with -c FILE",
        ));
}

#[test]
fn counts_are_plural_correct() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\nregions = [\"us-east-1\"]\n"
    );
    let (code, stdout, stderr) = validate(&text);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "fleet.toml is valid: 1 target in 1 account, 1 profile.\n"
    );
}

/// The errors (`×` lines) of an invalid file, in order.
fn errors(text: &str) -> Vec<String> {
    let (code, stdout, stderr) = validate(text);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("× "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_unknown_key_is_reported_in_one_run() {
    let text = format!(
        "{PROFILES}\n[profiles.other]\nvideo_data_delivery = false\n\n[profiles.other.s3_config]\nbucket_name = \"b-{{account_id}}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\n\n[[accounts]]\nid = \"222222222222\"\nprofle = \"standard\"\n"
    );
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("fleet.toml:10:1: unknown field `video_data_delivery`"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("fleet.toml:21:1: unknown field `profle`"),
        "{found:#?}"
    );
    let (_, _, stderr) = validate(&text);
    assert!(stderr.contains("did you mean `video_data_delivery_enabled`?"));
    assert!(stderr.contains("did you mean `profile`?"));
    assert!(
        stderr.contains("2 errors; nothing was read or written"),
        "{stderr}"
    );
}

#[test]
fn unknown_keys_and_other_problems_are_reported_together_without_cascades() {
    // `bucket_nme` is read as `bucket_name` for the rest of the checks: no
    // "missing field" follows from the typo, and the bad id is still found.
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_nme = \"logs-{account_id}\"\n\n[[accounts]]\nid = \"12345\"\nprofile = \"p\"\n";
    let found = errors(text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("fleet.toml:6:1: unknown field `bucket_nme`"));
    assert!(found[1].starts_with("fleet.toml:9:6: `12345` is not an AWS account id"));
}

#[test]
fn a_string_for_fleet_regions_is_one_error_not_one_per_account() {
    let mut text = String::from(
        "[fleet]\nregions = \"us-east-1\"\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}-{region}\"\n",
    );
    for i in 0..150 {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{:012}\"\nprofile = \"p\"\n",
            100_000_000_000u64 + i
        ));
    }
    let found = errors(&text);
    assert_eq!(
        found,
        ["fleet.toml:2:11: `us-east-1` is not a list of regions"],
        "{found:#?}"
    );
    let (_, _, stderr) = validate(&text);
    assert!(stderr.contains("regions = [\"us-east-1\"]"), "{stderr}");
    assert!(stderr.contains(": 1 error; nothing"), "{stderr}");
}

#[test]
fn an_unknown_placeholder_is_one_error_on_its_span() {
    let text = "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"Logs-{acount_id}\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"p\"\n";
    let found = errors(text);
    assert_eq!(
        found,
        ["fleet.toml:6:15: unknown placeholder `{acount_id}`"],
        "{found:#?}"
    );
}

#[test]
fn a_profile_no_target_uses_is_checked_too() {
    let text = format!(
        "{PROFILES}\n[profiles.spare.s3_config]\nbucket_name = \"Bad_Bucket\"\n\n[profiles.later.cloudwatch_config]\nlog_group_name = \"/aws/bedrock\"\nrole_arn = \"arn:aws:iam::{{account_id}}:user/logs\"\n\n[[accounts]]\nid = \"111111111111\"\nprofile = \"standard\"\n"
    );
    let found = errors(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with(
            "fleet.toml:10:15: bucket_name `Bad_Bucket` in profile `spare` (expanded for an example target, 111111111111/us-east-1) is not a valid S3 bucket name"
        ),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with(
            "fleet.toml:14:12: role_arn `arn:aws:iam::111111111111:user/logs` in profile `later`"
        ),
        "{found:#?}"
    );
}

#[test]
fn values_of_the_wrong_type_do_not_hide_the_problems_after_them() {
    let text = format!(
        "{PROFILES}\n[[accounts]]\nid = 111111111111\nprofile = \"standard\"\n\n[[accounts]]\nid = \"222222222222\"\nprofle = \"standard\"\nname = 5\n"
    );
    let found = errors(&text);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("fleet.toml:10:6: invalid type"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("fleet.toml:15:1: unknown field `profle`"),
        "{found:#?}"
    );
    assert!(
        found[2].starts_with("fleet.toml:16:8: invalid type"),
        "{found:#?}"
    );
}

#[test]
fn accounts_without_regions_anywhere_are_one_error() {
    let mut text = String::from(
        "[fleet]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}-{region}\"\n",
    );
    for i in 0..150 {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{:012}\"\nprofile = \"p\"\n",
            100_000_000_000u64 + i
        ));
    }
    let found = errors(&text);
    assert_eq!(
        found,
        [
            "fleet.toml:7:1: 150 accounts have no regions (the accounts on lines 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, …)"
        ],
        "{found:#?}"
    );
}
