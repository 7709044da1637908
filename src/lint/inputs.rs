//! What `kvdiag lint` reads: files as named, directories searched for Container Apps files, and
//! `-` for standard input.
//!
//! A directory is searched recursively for `*.yaml`, `*.yml` and `*.json` (any case), in name
//! order so the output is the same on every machine; hidden directories, `target/` and
//! `node_modules/` are not entered, nor are symbolic links to directories (no loops). A
//! directory holds unrelated files (`package.json`, a Kubernetes manifest, a workflow), so a
//! file found there that is not a Container App is skipped and counted, never an error; so is
//! one that does not parse and never mentions Container Apps (a Helm template): no
//! `Microsoft.App/`, `containerapp`, `managedEnvironment`, `environmentId`, `keyVaultUrl` or
//! `secretRef`, and not both `configuration` and `template`. A file named on
//! the command line is linted whatever it holds, and its problems are errors.

use super::{FileReport, Parameters, Report, Skipped};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The name standard input is shown with (`kvdiag lint -`).
pub const STDIN: &str = "<stdin>";

/// The extensions a directory search reads.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Directories a search never enters (besides hidden ones).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// Words (compared without case) that say a file that does not parse was meant to be a
/// Container App or job: such a file found by a search is an error, not skipped. So is one
/// that mentions both `configuration` and `template` (the short form).
const MARKERS: &[&str] = &[
    "microsoft.app/",
    "containerapp",
    "managedenvironment",
    "environmentid",
    "keyvaulturl",
    "secretref",
];

/// One input to lint.
#[derive(Debug)]
pub struct Input {
    /// The name shown in reports: the path as given or found, or [`STDIN`].
    pub file: String,
    /// The text, or why it could not be read.
    pub text: Result<String, String>,
    /// Found by searching a directory (not named on the command line).
    pub found: bool,
}

/// Everything the command line names, in order: files as given, each directory's files in
/// name order, `-` read from `stdin` (once, however often it is named).
pub fn expand(args: &[PathBuf], stdin: &mut dyn Read) -> Vec<Input> {
    let mut out = Vec::new();
    let mut stdin_text: Option<Result<String, String>> = None;
    for arg in args {
        if arg.as_os_str() == "-" {
            let text = stdin_text
                .get_or_insert_with(|| {
                    let mut bytes = Vec::new();
                    stdin
                        .read_to_end(&mut bytes)
                        .map_err(|e| format!("cannot read standard input: {e}"))?;
                    String::from_utf8(bytes)
                        .map_err(|_| "standard input is not UTF-8 text".to_string())
                })
                .clone();
            out.push(Input {
                file: STDIN.to_string(),
                text,
                found: false,
            });
        } else if arg.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(arg, &mut found) {
                out.push(Input {
                    file: arg.display().to_string(),
                    text: Err(e),
                    found: false,
                });
            }
            out.extend(found.into_iter().map(|path| Input {
                file: path.display().to_string(),
                text: read(&path),
                found: true,
            }));
        } else {
            out.push(Input {
                file: arg.display().to_string(),
                text: read(arg),
                found: false,
            });
        }
    }
    out
}

fn read(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// The files under `dir` a search reads, in name order (directories and files alike).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        // `file_type` does not follow a symbolic link: a link to a directory is not entered.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
                // A subdirectory that cannot be read is left out, like any file it holds.
                walk(&path, out).ok();
            }
        } else if path.is_file()
            && path.extension().is_some_and(|ext| {
                EXTENSIONS
                    .iter()
                    .any(|e| ext.eq_ignore_ascii_case(std::ffi::OsStr::new(e)))
            })
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Lints every input; a file a search found that is not a Container App is skipped and
/// counted in [`Report::skipped`]. A directory that yields no app or job at all is an error
/// (a gate that checks nothing must not pass): its report names the directory.
pub fn lint(
    args: &[PathBuf],
    inputs: &[Input],
    params: Option<&Parameters>,
) -> (Report, Vec<Option<String>>) {
    let mut files = Vec::new();
    let mut texts = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let report = match &input.text {
            Ok(text) => super::lint_text(&input.file, text, params),
            Err(e) => FileReport {
                file: input.file.clone(),
                resources: Vec::new(),
                findings: Vec::new(),
                error: Some(e.clone()),
            },
        };
        if input.found
            && let Some(error) = &report.error
            && skip(error, input.text.as_deref().unwrap_or_default())
        {
            skipped.push(Skipped {
                file: input.file.clone(),
                reason: error.clone(),
            });
            continue;
        }
        texts.push(input.text.clone().ok());
        files.push(report);
    }
    for dir in args.iter().filter(|a| a.as_os_str() != "-" && a.is_dir()) {
        let shown = dir.display().to_string();
        let under = |file: &str| Path::new(file).starts_with(dir);
        if !files.iter().any(|f| under(&f.file)) {
            let skipped_here = skipped.iter().filter(|s| under(&s.file)).count();
            files.push(FileReport {
                file: shown.clone(),
                resources: Vec::new(),
                findings: Vec::new(),
                error: Some(format!(
                    "no Container App or job found under {shown} (searched *.yaml, *.yml and *.json; {skipped_here} file(s) skipped as not a Container App)"
                )),
            });
            texts.push(None);
        }
    }
    let mut report = Report::new(files);
    report.skipped = skipped;
    (report, texts)
}

/// True when a file a search found failed for a reason that says it is not meant for lint.
fn skip(error: &str, text: &str) -> bool {
    if error.starts_with(super::NOT_AN_APP) {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    let app_shape = lower.contains("configuration") && lower.contains("template");
    !app_shape && !MARKERS.iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_read_once() {
        let args = [PathBuf::from("-"), PathBuf::from("-")];
        let inputs = expand(&args, &mut "name: x".as_bytes());
        assert_eq!(inputs.len(), 2);
        assert!(inputs.iter().all(|i| i.file == STDIN));
        assert!(inputs.iter().all(|i| i.text.as_deref() == Ok("name: x")));
    }

    #[test]
    fn unrelated_files_are_skipped_and_broken_apps_are_not() {
        assert!(skip("not a Container App: ...", "{}"));
        assert!(skip(
            "malformed YAML at line 1, column 3: x",
            "a: {{ .Values.x }}"
        ));
        assert!(!skip(
            "malformed YAML at line 1, column 3: x",
            "secrets:\n  - keyVaultUrl: [x"
        ));
        assert!(!skip(
            "malformed YAML at line 5, column 7: x",
            "properties:\n  configuration: [\n  template: {"
        ));
    }
}
