//! `fleet audit`.

use anyhow::{Result, bail};

use super::{Exit, Ui};
use crate::cli::AuditArgs;

pub(super) async fn audit(_ui: &Ui, _config: &str, _args: AuditArgs) -> Result<Exit> {
    bail!("`fleet audit` is being built")
}
