//! `pims completions <bash|zsh|fish>`: the completion script on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, Shell};

/// Writes the script.
pub(crate) fn print(shell: Shell) {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pims", &mut script);
    crate::render::out(&String::from_utf8_lossy(&script));
}
