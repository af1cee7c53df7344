//! A closed or full standard output: a reader that stops early ends the command quietly with
//! its own exit code; a write that fails otherwise is an error (exit 2) that says so.

use std::process::Stdio;

#[test]
fn a_closed_pipe_ends_the_demo_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .arg("demo")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the demo has written anything (`idgap demo | head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn a_full_disk_is_an_error_that_says_so() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idgap"))
        .arg("crd")
        .env_remove("RUST_LOG")
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot write the output to standard output: No space left on device"
        ),
        "{stderr}"
    );
}
