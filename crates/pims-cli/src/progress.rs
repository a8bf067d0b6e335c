//! Progress of `activate`: a spinner per step on a terminal, plain lines otherwise. Plain lines go
//! to stdout, or to stderr with `--json` (stdout then holds only the envelope). What is said is
//! escaped here ([`crate::escape`]): it holds step names, identifiers and dates from the backend.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::escape::escape;
use crate::style::Style;

/// One step's progress at a time.
pub(crate) struct Progress {
    style: Style,
    spinner: Option<ProgressBar>,
    /// The current step's label (`[2/3] deviceActivation`).
    label: String,
}

impl Progress {
    /// Progress for this process's streams.
    pub(crate) fn new(style: Style) -> Progress {
        Progress {
            style,
            spinner: None,
            label: String::new(),
        }
    }

    fn on_stderr(&self) -> bool {
        self.style.json
    }

    fn line(&self, text: &str) {
        match &self.spinner {
            Some(s) => s.println(text),
            None if self.on_stderr() => eprintln!("{text}"),
            None => crate::render::out_line(text),
        }
    }

    /// Starts a step.
    pub(crate) fn start(&mut self, index: usize, total: usize, name: &str) {
        self.finish_spinner();
        self.label = format!("[{index}/{total}] {}", escape(name));
        if self.style.err_terminal {
            let spinner = ProgressBar::new_spinner();
            if let Ok(s) = ProgressStyle::with_template("{spinner} {prefix} {msg}") {
                spinner.set_style(s);
            }
            spinner.set_prefix(self.label.clone());
            spinner.enable_steady_tick(Duration::from_millis(100));
            self.spinner = Some(spinner);
        } else {
            self.line(&self.label);
        }
    }

    /// What is being done now (the spinner's message, or an indented line).
    pub(crate) fn doing(&self, what: &str) {
        match &self.spinner {
            Some(s) => s.set_message(escape(what).into_owned()),
            None => self.line(&format!("      {}", escape(what))),
        }
    }

    /// Something the user should read and keep on screen.
    pub(crate) fn note(&self, what: &str) {
        self.line(&format!("      {}", escape(what)));
    }

    /// Runs `f` with the spinner hidden (prompts).
    pub(crate) fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.spinner {
            Some(s) => s.suspend(f),
            None => f(),
        }
    }

    /// The step is done.
    pub(crate) fn done(&mut self, what: &str) {
        let what = escape(what);
        let mark = self.style.progress_ok("done", self.on_stderr());
        match self.spinner.take() {
            Some(s) => {
                s.finish_and_clear();
                eprintln!("{} {mark}: {what}", self.label);
            }
            None => self.line(&format!("      {mark}: {what}")),
        }
    }

    /// Stops a spinner still turning (a failure interrupts the step).
    pub(crate) fn finish_spinner(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
            eprintln!("{} stopped", self.label);
        }
    }

    /// A line outside the steps.
    pub(crate) fn say(&self, what: &str) {
        self.line(&escape(what));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
    }
}
