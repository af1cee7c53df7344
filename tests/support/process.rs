//! Child processes that never outlive the test binary.
//!
//! Linux delivers `PR_SET_PDEATHSIG` when the *thread* that forked the child exits, not the
//! process. Test threads come and go, so every child is forked from one spawner thread that
//! lives as long as the process. An `atexit` hook also kills the children (by their PIDs) and
//! removes their scratch directory when the test binary exits normally.

use std::io;
use std::os::raw::{c_int, c_ulong};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

const PR_SET_PDEATHSIG: c_int = 1;
const SIGKILL: c_ulong = 9;

unsafe extern "C" {
    fn prctl(option: c_int, ...) -> c_int;
    fn getppid() -> c_int;
    fn atexit(callback: extern "C" fn()) -> c_int;
    #[link_name = "kill"]
    fn send_signal(pid: c_int, signal: c_int) -> c_int;
}

const SIGTERM: c_int = 15;

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testcp-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop (and the thread) lasts until exit.
                while let Ok((mut command, reply)) = rx.recv() {
                    let _ = reply.send(command.spawn());
                }
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the control-plane spawner thread");
        // SAFETY: registering a plain `extern "C" fn` with no captured state.
        unsafe { atexit(cleanup_at_exit) };
        Mutex::new(tx)
    })
}

/// What the exit hook cleans up: children by PID, then scratch directories.
#[derive(Default)]
struct Owned {
    children: Vec<(String, Child)>,
    dirs: Vec<PathBuf>,
}

fn owned() -> &'static Mutex<Owned> {
    static OWNED: OnceLock<Mutex<Owned>> = OnceLock::new();
    OWNED.get_or_init(Mutex::default)
}

extern "C" fn cleanup_at_exit() {
    let Ok(mut owned) = owned().try_lock() else {
        return;
    };
    for (_, child) in owned.children.iter_mut().rev() {
        let _ = child.kill();
        let _ = child.wait();
    }
    for dir in &owned.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Spawns `command` so that it receives SIGKILL when this test process goes away, and records
/// it under `name` for the exit hook. Returns the child's PID.
pub fn spawn_owned(name: &str, mut command: Command) -> io::Result<u32> {
    let parent = std::process::id() as c_int;
    // SAFETY: the closure only calls prctl and getppid, which are async-signal-safe, between
    // fork and exec.
    unsafe {
        command.pre_exec(move || {
            if prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if getppid() != parent {
                // ESRCH, built without allocating (no malloc between fork and exec).
                return Err(io::Error::from_raw_os_error(3));
            }
            Ok(())
        });
    }
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, reply_tx))
        .map_err(|_| io::Error::other("control-plane spawner thread is gone"))?;
    let child = reply_rx
        .recv()
        .map_err(|_| io::Error::other("control-plane spawner thread dropped the request"))??;
    let pid = child.id();
    owned()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .children
        .push((name.to_string(), child));
    Ok(pid)
}

/// Registers a directory to delete when the test process exits.
pub fn remove_at_exit(dir: PathBuf) {
    owned()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .dirs
        .push(dir);
}

/// `Some(exit description)` when the child named `name` has exited.
pub fn exited(name: &str) -> Option<String> {
    let mut owned = owned().lock().unwrap_or_else(|e| e.into_inner());
    let (_, child) = owned.children.iter_mut().rev().find(|(n, _)| n == name)?;
    match child.try_wait() {
        Ok(Some(status)) => Some(status.to_string()),
        Ok(None) => None,
        Err(e) => Some(format!("unknown state: {e}")),
    }
}

/// Kills and reaps every child started so far (used when a start attempt fails).
pub fn kill_all() {
    let mut owned = owned().lock().unwrap_or_else(|e| e.into_inner());
    for (_, child) in owned.children.iter_mut().rev() {
        let _ = child.kill();
        let _ = child.wait();
    }
    owned.children.clear();
}

/// SIGKILLs and reaps the newest child named `name` (no graceful shutdown: the process dies
/// where it stands). Returns its PID, or `None` when no child has that name.
pub fn kill(name: &str) -> Option<u32> {
    let mut owned = owned().lock().unwrap_or_else(|e| e.into_inner());
    let (_, child) = owned.children.iter_mut().rev().find(|(n, _)| n == name)?;
    let _ = child.kill();
    let _ = child.wait();
    Some(child.id())
}

/// SIGKILLs, reaps and forgets every child whose name starts with `prefix` (a dedicated
/// control plane, or the processes of one test, going away).
pub fn kill_prefixed(prefix: &str) {
    let mut owned = owned().lock().unwrap_or_else(|e| e.into_inner());
    for (name, child) in owned.children.iter_mut().rev() {
        if name.starts_with(prefix) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    owned.children.retain(|(name, _)| !name.starts_with(prefix));
}

/// Sends SIGTERM to the newest child named `name` if it still runs (what Kubernetes sends
/// before it stops a pod). Returns false when there is no such running child.
pub fn terminate(name: &str) -> bool {
    let mut owned = owned().lock().unwrap_or_else(|e| e.into_inner());
    let Some((_, child)) = owned.children.iter_mut().rev().find(|(n, _)| n == name) else {
        return false;
    };
    if !matches!(child.try_wait(), Ok(None)) {
        return false;
    }
    // SAFETY: kill(2) on the PID of a child that has not been reaped yet (so the PID cannot
    // have been reused).
    unsafe { send_signal(child.id() as c_int, SIGTERM) == 0 }
}
