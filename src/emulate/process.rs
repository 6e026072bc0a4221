//! The programs the emulator runs (Envoy, RabbitMQ and its port mapper): found before anything starts, started so
//! that they end with the emulator even when it is killed, and stopped by PID when it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use super::EmulateError;

/// Children started by the emulator, killed and waited for when dropped (on success, on an error, on Ctrl+C).
#[derive(Default)]
pub(crate) struct Children {
    running: Vec<Running>,
    /// Folders the children use, removed after they are stopped.
    folders: Vec<tempfile::TempDir>,
}

struct Running {
    what: String,
    child: Child,
    /// The child leads a process group of its own (RabbitMQ's script and the Erlang VM it starts): the whole group
    /// is killed.
    group: bool,
}

impl Children {
    /// Starts `command`; `group` puts it in a process group of its own, killed as a whole at the end.
    ///
    /// On Linux the child is also told to receive SIGKILL when the thread that started it ends
    /// (`PR_SET_PDEATHSIG`), which survives `exec`: a killed emulator takes its Envoys and RabbitMQ with it. The
    /// emulator starts every child from the thread that runs the whole emulation, so this happens only at its end.
    pub(crate) fn spawn(
        &mut self,
        what: &str,
        command: &mut Command,
        group: bool,
    ) -> Result<u32, EmulateError> {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            if group {
                command.process_group(0);
            }
            #[cfg(target_os = "linux")]
            // SAFETY: prctl is async-signal-safe and touches only the child's own process attributes.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = command
            .spawn()
            .map_err(|e| EmulateError::Failed(format!("could not start {what}: {e}")))?;
        let pid = child.id();
        tracing::info!(what, pid, "emulator started a process");
        self.running.push(Running {
            what: what.to_owned(),
            child,
            group,
        });
        Ok(pid)
    }

    /// The first child that has exited on its own, with its status: a proxy or broker that died mid-run.
    pub(crate) fn exited(&mut self) -> Option<String> {
        self.running.iter_mut().find_map(|r| {
            r.child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!("{} exited on its own ({status})", r.what))
        })
    }

    /// Keeps a folder until every child is stopped.
    pub(crate) fn keep(&mut self, folder: tempfile::TempDir) {
        self.folders.push(folder);
    }

    /// Kills every child (and its group) and waits for each, newest first.
    pub(crate) fn stop_all(&mut self) {
        while let Some(mut running) = self.running.pop() {
            #[cfg(unix)]
            if running.group
                && let Ok(pid) = i32::try_from(running.child.id())
            {
                // SAFETY: kill(2) with a negative pid signals the process group the child leads.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = running.child.kill();
            let _ = running.child.wait();
            tracing::info!(what = running.what, "emulator stopped a process");
        }
        self.folders.clear();
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// A program: `override_variable` (a path) when set, else the first of `names` in `preferred_dirs` or on `PATH`.
pub(crate) fn find_program(
    override_variable: &str,
    names: &[&str],
    preferred_dirs: &[&str],
) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(override_variable) {
        let path = PathBuf::from(path);
        return is_executable(&path).then_some(path);
    }
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for name in names {
        for dir in preferred_dirs
            .iter()
            .map(Path::new)
            .chain(path_dirs.iter().map(PathBuf::as_path))
        {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Where `free_port` looks: below the ephemeral ranges of Linux (from 32768), macOS and Windows (from 49152), so
/// that no outgoing connection of the emulator (a `tcp` call through a proxy opens one per call) is given a port
/// between the moment it is found free and the moment its program binds it. A port of the ephemeral range found by
/// binding port 0 was taken that way now and then, and the Envoy meant to listen on it exited.
const PORT_RANGE: std::ops::Range<u16> = 20_000..32_768;

/// The ports handed out lately by this process: none is handed out twice.
static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

/// A free loopback port for a program the emulator starts (its own servers bind port 0 and keep the socket).
pub(crate) fn free_port() -> Result<u16, EmulateError> {
    let mut handed_out = HANDED_OUT
        .lock()
        .map_err(|_| EmulateError::Failed("the port list was poisoned".to_owned()))?;
    let span = u32::from(PORT_RANGE.end - PORT_RANGE.start);
    // Processes side by side (tests, two emulations) start at different places.
    let start = (std::process::id().wrapping_mul(7919) + handed_out.len() as u32) % span;
    for step in 0..span {
        let Ok(port) = u16::try_from(u32::from(PORT_RANGE.start) + (start + step) % span) else {
            continue;
        };
        if handed_out.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            // The app may run many emulations: the oldest ports, long bound or freed, may come round again.
            if handed_out.len() >= 4096 {
                handed_out.drain(..2048);
            }
            handed_out.push(port);
            return Ok(port);
        }
    }
    Err(EmulateError::Failed(format!(
        "no free loopback port between {} and {}",
        PORT_RANGE.start,
        PORT_RANGE.end - 1
    )))
}

/// Raises the limit of open files to the hard limit: every replica, connection and proxy holds sockets.
pub(crate) fn raise_open_files_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit on our own process with a properly initialised struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_lie_below_every_ephemeral_range_and_never_repeat() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().expect("a free port")).collect();
        assert!(ports.iter().all(|p| PORT_RANGE.contains(p)), "{ports:?}");
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "{ports:?}");
    }
}
