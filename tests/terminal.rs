//! The table view in a real 80-column terminal with no `COLUMNS`: kvdiag asks the terminal its
//! width and every line fits, except the commands, which stay whole to be copied.
#![cfg(unix)]

mod common;

use serde_json::Value;
use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthStr;

const SCENARIO: &str = "fixtures/scenarios/managed-identity-no-role.json";

/// A pseudo-terminal of `cols` × 24: (master, slave).
#[allow(unsafe_code)]
fn pty(cols: u16) -> (File, File) {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let size = libc::winsize {
        ws_row: 24,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: both out-pointers point at live c_ints; a null name and termios are allowed, and
    // `size` outlives the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty succeeded, so both are open descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    (File::from(master), File::from(slave))
}

/// What `kvdiag args` prints on a terminal `cols` wide, `\r` and colour codes removed.
fn on_terminal(args: &[&str], cols: u16) -> String {
    let (mut master, slave) = pty(cols);
    let mut command = Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .args(args)
        .current_dir(common::repo())
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("kvdiag starts");
    // The parent's copy of the slave must close, or the master never sees the end.
    drop(command);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        // Linux answers EIO once every slave descriptor is closed: that is the end.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        tx.send(out).ok();
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("kvdiag did not finish within 60 s on a terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1), "a cause is found");
    let bytes = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the terminal's output is read to its end");
    strip(&String::from_utf8(bytes).expect("UTF-8 output"))
}

/// Removes `\r` (the terminal's ONLCR) and ANSI escape sequences (colour).
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Every command the verdict prints (fixes and reproductions), which may be wider.
fn commands() -> HashSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .args(["check", "--from", SCENARIO, "-o", "json"])
        .current_dir(common::repo())
        .output()
        .unwrap();
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut commands = HashSet::new();
    for h in verdict["hypotheses"].as_array().unwrap() {
        for r in h["remediation"].as_array().unwrap() {
            commands.extend(r["command"].as_str().map(String::from));
        }
        for e in h["evidence"].as_array().unwrap() {
            commands.extend(e["reproduce"].as_str().map(|c| format!("$ {c}")));
        }
    }
    commands
}

#[test]
fn an_80_column_terminal_gets_80_columns() {
    let text = on_terminal(&["check", "--from", SCENARIO], 80);
    let commands = commands();
    let mut wide_commands = 0;
    for line in text.lines() {
        if commands.contains(line.trim()) {
            wide_commands += usize::from(line.width() > 80);
            continue;
        }
        assert!(
            line.width() <= 80,
            "{} columns: {line}\n\n{text}",
            line.width()
        );
    }
    assert!(
        wide_commands > 0,
        "the commands stay whole on one line:\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("kvdiag · app 'ca-orders-web'"),
        "{text}"
    );
    assert!(
        text.contains("TOP CAUSE: keyvault_access (confirmed)"),
        "{text}"
    );
    let fix = lines
        .iter()
        .position(|l| *l == "FIX:")
        .expect("a FIX block");
    assert!(
        lines[fix + 1].starts_with("  # grant identity 'system' 'Key Vault Secrets User'"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  az role assignment create --assignee-object-id")),
        "{text}"
    );
    // The table is drawn to the terminal's width, not the 120 of a pipe.
    assert!(
        lines.iter().any(|l| l.starts_with('┌') && l.width() == 80),
        "{text}"
    );
}
