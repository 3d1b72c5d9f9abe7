//! `fleet report`.

use anyhow::{Result, bail};

use super::{Exit, Ui};
use crate::cli::ReportArgs;

pub(super) fn report(_ui: &Ui, _args: ReportArgs) -> Result<Exit> {
    bail!("`fleet report` is being built")
}
