//! JSON documents: the saved plan.

use std::io::{self, Write};

use crate::engine::saved::SavedPlan;

pub fn saved_plan(out: &mut dyn Write, saved: &SavedPlan) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, saved)?;
    writeln!(out)
}
