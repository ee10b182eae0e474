//! The exit status of every subcommand, grep-style.

use std::process::ExitCode;

/// What the process tells its caller.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: the command succeeded; for `analyze`, no finding at or above `--fail-on`.
    Success,
    /// 1: `analyze`: findings at or above `--fail-on`; `rules lint`/`rules test`:
    /// errors or failing examples.
    Findings,
    /// 2: an error: an input could not be read (everything else is still
    /// reported), bad arguments.
    Error,
}

impl Exit {
    /// [`Exit::Error`] when inputs could not be read, else `otherwise`.
    pub fn unless_errors(had_errors: bool, otherwise: Exit) -> Exit {
        if had_errors { Exit::Error } else { otherwise }
    }

    /// [`Exit::Findings`] when `found`, else success.
    pub fn found(found: bool) -> Exit {
        if found { Exit::Findings } else { Exit::Success }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        })
    }
}
