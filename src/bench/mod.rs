//! `citytwin bench …`: modes that print performance figures.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Frame time, load time and recolour cost of the 3D city.
    Render,
}

pub fn run(_command: BenchCommand) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
