//! `fleet import`.

use std::io::Write;

use anyhow::{Result, bail};

use super::{DEFAULT_CONCURRENCY, Exit, Ui, aws_options, check_caller};
use crate::aws::Aws;
use crate::cli::ImportArgs;
use crate::engine::import::{self, ImportError, ImportRequest};
use crate::fleet::{self, Settings};
use crate::render;

pub(super) async fn import(ui: &Ui, args: ImportArgs) -> Result<Exit> {
    let request = ImportRequest::new(
        &args.accounts,
        &args.regions,
        args.role_name.clone(),
        args.include_absent,
    )?;
    for region in &request.regions {
        if !region.is_known_bedrock_region() {
            ui.warn(&format!(
                "{region} is not in fleet's list of Bedrock regions; reading it anyway"
            ));
        }
    }
    let aws = Aws::connect(aws_options(ui, &args.aws, Settings::default())).await;
    check_caller(ui, &aws).await?;
    // Known now: check_caller asked it, and the answer is kept.
    let caller = aws.caller_account().await?;
    if request.role_name.is_none() {
        let others: Vec<String> = request
            .accounts
            .iter()
            .filter(|a| a.id != caller)
            .map(|a| a.id.to_string())
            .collect();
        if !others.is_empty() {
            bail!(
                "account{} {} {} not the caller's ({caller}): pass --role-name NAME, the role to assume in them; nothing was read",
                if others.len() == 1 { "" } else { "s" },
                others.join(", "),
                if others.len() == 1 { "is" } else { "are" },
            );
        }
    }
    let targets = request.targets(&caller);
    let concurrency = args
        .aws
        .concurrency
        .map_or(DEFAULT_CONCURRENCY, |n| n as usize);
    ui.note(&format!(
        "reading {}, {concurrency} at a time",
        render::count(targets.len(), "target")
    ));
    let bar = render::progress::Bar::new("importing", ui.quiet || ui.verbose);
    let reads = import::read_targets(&aws, targets, concurrency, &bar).await;
    let imported = match import::build(&request, &reads) {
        Ok(imported) => imported,
        Err(ImportError::Unreadable(failed)) => {
            let mut err = anstream::stderr();
            for (target, error) in &failed {
                writeln!(
                    err,
                    "{} {target}: {}: {}",
                    render::paint(render::RED, "! failed"),
                    error.code,
                    error.message
                )?;
            }
            bail!("{}", ImportError::Unreadable(failed));
        }
        Err(other) => bail!("{other}"),
    };
    for account in &imported.accounts_left_out {
        ui.warn(&format!(
            "account {account} has no logging in any region read; it is left out (--include-absent manages it)"
        ));
    }
    let text = render::import::fleet_file(&imported);
    // The file must be one fleet accepts as it is: check it as `validate` would.
    if let Err(err) = fleet::parse("imported fleet file", text.clone()) {
        if let fleet::FleetFileError::Invalid { problems, .. } = &err {
            for problem in problems {
                eprint!("{}", render::diagnostics::problem(problem, false));
            }
        }
        bail!(
            "fleet import produced a file that does not validate, so it was not printed (a bug; please report it): {err}"
        );
    }
    anstream::stdout().write_all(text.as_bytes())?;
    Ok(Exit::Success)
}
