//! A spinner on stderr naming the current step, only when stderr is a terminal: pipelines and
//! scripts see nothing but the verdict on stdout.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// The run's progress display (a hidden one draws nothing).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner when `visible`, else nothing.
    pub fn new(visible: bool) -> Self {
        if !visible {
            return Self::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .expect("static template")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar: Some(bar) }
    }

    pub fn hidden() -> Self {
        Progress { bar: None }
    }

    /// Names the step under way.
    pub fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    /// A line on stderr that does not tear the spinner.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            // The progress line is stderr by design: the verdict alone goes to stdout.
            #[allow(clippy::print_stderr)]
            None => eprintln!("{line}"),
        }
    }

    /// Removes the spinner before the verdict is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
