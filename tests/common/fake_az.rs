//! A fake `az` for `--auth azure-cli`: a script in an absolute temporary directory that the test
//! puts first on the child's PATH (never the test process's). It logs every call and prints a
//! token that is not a secret, so tests can check tokens never reach the output.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The token the fake `az` hands out; it must never appear in kvdiag's output.
pub const TOKEN: &str = "kvdiag-test-token-9f3e1c";

pub struct FakeAz {
    pub dir: PathBuf,
}

impl FakeAz {
    pub fn new(label: &str) -> FakeAz {
        let dir = std::env::temp_dir().join(format!(
            "kvdiag-fake-az-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             echo \"$*\" >> '{log}'\n\
             case \"$*\" in\n\
               *'account get-access-token'*) printf '%s\\n' '{{\"accessToken\":\"{TOKEN}\",\"expires_on\":4070908800,\"tokenType\":\"Bearer\"}}' ;;\n\
               *) echo 'fake az: unexpected call' >&2; exit 2 ;;\n\
             esac\n",
            log = dir.join("calls.log").display()
        );
        let az = dir.join("az");
        std::fs::write(&az, script).unwrap();
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeAz { dir }
    }

    /// PATH for the child: this directory first.
    pub fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The argument lines of every call so far.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn clear(&self) {
        let _ = std::fs::remove_file(self.dir.join("calls.log"));
    }
}

impl Drop for FakeAz {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
