//! The fleet file `fleet import` prints: the fleet file's own key names,
//! every flag explicit, profiles most used first.

use std::fmt::Write as _;

use crate::engine::import::{ImportedAccount, ImportedFleet, ImportedProfile};
use crate::fleet::Region;
use crate::logging::S3Config;

/// A TOML basic string, quoted and escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn region_list(regions: &[Region]) -> String {
    let quoted: Vec<String> = regions.iter().map(|r| quoted(r.as_str())).collect();
    format!("[{}]", quoted.join(", "))
}

/// The imported fleet as a fleet file.
pub fn fleet_file(fleet: &ImportedFleet) -> String {
    let mut out = String::new();
    let accounts = fleet.accounts.len();
    let _ = writeln!(
        out,
        "# Written by `fleet import` from the live configurations of {accounts} account{} × {} region{}.",
        if accounts == 1 { "" } else { "s" },
        fleet.regions.len(),
        if fleet.regions.len() == 1 { "" } else { "s" },
    );
    out.push_str(
        "# Identical configurations share one profile; `fleet plan` on this file reports no changes.\n\n",
    );
    out.push_str("[fleet]\n");
    let _ = writeln!(out, "regions = {}", region_list(&fleet.regions));
    if let Some(role) = &fleet.role_name {
        let _ = writeln!(out, "role_name = {}", quoted(role));
    }
    for profile in &fleet.profiles {
        out.push('\n');
        write_profile(&mut out, profile);
    }
    for account in &fleet.accounts {
        out.push('\n');
        write_account(&mut out, account);
    }
    if !fleet.accounts_left_out.is_empty() {
        let ids: Vec<&str> = fleet.accounts_left_out.iter().map(|a| a.as_str()).collect();
        let _ = write!(
            out,
            "\n# Left out, with no logging in any region read: {} (fleet import --include-absent manages them).\n",
            ids.join(", ")
        );
    }
    out
}

fn write_profile(out: &mut String, profile: &ImportedProfile) {
    let name = &profile.name;
    let _ = writeln!(
        out,
        "[profiles.{name}]  # {} target{}",
        profile.targets,
        if profile.targets == 1 { "" } else { "s" }
    );
    let Some(config) = &profile.config else {
        out.push_str("enabled = false\n");
        return;
    };
    for (key, value) in config.flags() {
        match value {
            Some(value) => {
                let _ = writeln!(out, "{key} = {value}");
            }
            // AWS did not report it: omitted, the flag defaults to true as
            // it does in AWS, and it is not compared in that region anyway.
            None => {
                let _ = writeln!(out, "# {key}: not reported by AWS in this region");
            }
        }
    }
    let s3 = |out: &mut String, table: &str, s3: &S3Config| {
        let _ = writeln!(out, "\n[profiles.{name}.{table}]");
        let _ = writeln!(out, "bucket_name = {}", quoted(&s3.bucket_name));
        if let Some(prefix) = &s3.key_prefix {
            let _ = writeln!(out, "key_prefix = {}", quoted(prefix));
        }
    };
    if let Some(bucket) = &config.s3_config {
        s3(out, "s3_config", bucket);
    }
    if let Some(cw) = &config.cloudwatch_config {
        let _ = writeln!(out, "\n[profiles.{name}.cloudwatch_config]");
        let _ = writeln!(out, "log_group_name = {}", quoted(&cw.log_group_name));
        let _ = writeln!(out, "role_arn = {}", quoted(&cw.role_arn));
        if let Some(large) = &cw.large_data_delivery_s3_config {
            s3(
                out,
                "cloudwatch_config.large_data_delivery_s3_config",
                large,
            );
        }
    }
}

fn write_account(out: &mut String, account: &ImportedAccount) {
    out.push_str("[[accounts]]\n");
    let _ = writeln!(out, "id = {}", quoted(account.id.as_str()));
    if let Some(name) = &account.name {
        let _ = writeln!(out, "name = {}", quoted(name));
    }
    let _ = writeln!(out, "profile = {}", quoted(&account.profile));
    if let Some(regions) = &account.regions {
        if !account.left_out.is_empty() {
            let left: Vec<&str> = account.left_out.iter().map(Region::as_str).collect();
            let _ = writeln!(out, "# no logging, left unmanaged: {}", left.join(", "));
        }
        let _ = writeln!(out, "regions = {}", region_list(regions));
    }
    if !account.region_profiles.is_empty() {
        let pairs: Vec<String> = account
            .region_profiles
            .iter()
            .map(|(region, profile)| format!("{} = {}", quoted(region.as_str()), quoted(profile)))
            .collect();
        let _ = writeln!(out, "region_profiles = {{ {} }}", pairs.join(", "));
    }
}
