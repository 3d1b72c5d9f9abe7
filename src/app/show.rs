//! `fleet show`.

use anyhow::{Result, bail};

use super::{Exit, Ui};
use crate::cli::ShowArgs;

pub(super) async fn show(_ui: &Ui, _config: &str, _args: ShowArgs) -> Result<Exit> {
    bail!("`fleet show` is being built")
}
