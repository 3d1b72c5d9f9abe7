//! `fleet import`.

use anyhow::{Result, bail};

use super::{Exit, Ui};
use crate::cli::ImportArgs;

pub(super) async fn import(_ui: &Ui, _args: ImportArgs) -> Result<Exit> {
    bail!("`fleet import` is being built")
}
