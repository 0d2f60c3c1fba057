//! A throwaway PostgreSQL cluster for the fleet's tests and benchmark, and a loopback
//! TCP fault proxy to cut or blackhole the link to it.
//!
//! The cluster is a real server (Debian's `postgresql` package): `initdb` in a temporary
//! folder (as the `postgres` user through `runuser` when running as root, since the
//! server refuses to run as root), a unix socket in that folder for the administrator
//! (trust) and a free TCP port on 127.0.0.1 for the booths (SCRAM passwords). It is
//! stopped on drop; [`PgCluster::crash`] stops it the way a power cut would.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where Debian installs the server binaries.
const BIN_DIRS: [&str; 3] = [
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
];

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in {0}: install them with `apt-get install postgresql`"
    )]
    NotInstalled(String),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A running (or crashed) throwaway cluster.
pub struct PgCluster {
    bin: PathBuf,
    root: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    running: bool,
}

fn find_bin() -> Result<PathBuf, PgError> {
    if let Ok(dir) = std::env::var("EVISA_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    BIN_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .ok_or_else(|| PgError::NotInstalled(BIN_DIRS.join(", ")))
}

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn postgres_ids() -> Result<(u32, u32), PgError> {
    let id = |flag: &str| -> Result<u32, PgError> {
        let o = Command::new("id").args([flag, "postgres"]).output()?;
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .map_err(|_| PgError::Command {
                what: "looking up the postgres user".into(),
                detail: "no `postgres` user (apt-get install postgresql creates it)".into(),
            })
    };
    Ok((id("-u")?, id("-g")?))
}

impl PgCluster {
    /// Creates and starts a cluster in a new temporary folder.
    pub fn start() -> Result<Self, PgError> {
        let bin = find_bin()?;
        let as_postgres = is_root();
        let root =
            std::env::temp_dir().join(format!("evisa-pg-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(&root)?;
        if as_postgres {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))?;
        }
        let data = root.join("data");
        let mut c = PgCluster {
            bin,
            root,
            data,
            port: 0,
            as_postgres,
            running: false,
        };
        c.run(
            "initdb",
            &[
                "-D",
                &c.data.display().to_string(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        c.port = free_port()?;
        c.start_server()?;
        Ok(c)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(exe);
            cmd
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), PgError> {
        let out = self
            .command(tool)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(PgError::Command {
                what: format!("{tool} {}", args.join(" ")),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stderr),
                    std::fs::read_to_string(self.log()).unwrap_or_default()
                ),
            })
        }
    }

    fn log(&self) -> PathBuf {
        self.root.join("server.log")
    }

    fn start_server(&mut self) -> Result<(), PgError> {
        let opts = format!(
            "-k {} -p {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=16MB",
            self.root.display(),
            self.port
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data.display().to_string(),
                "-l",
                &self.log().display().to_string(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        self.running = true;
        Ok(())
    }

    /// The TCP port on 127.0.0.1 (password authentication).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP address the booths connect to.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The folder holding the unix socket (trust authentication for `postgres`).
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    /// Stops the server the way a power cut would (`pg_ctl -m immediate`): no
    /// checkpoint, recovery from the WAL at the next start.
    pub fn crash(&mut self) -> Result<(), PgError> {
        self.stop_mode("immediate")
    }

    /// A clean stop.
    pub fn stop(&mut self) -> Result<(), PgError> {
        self.stop_mode("fast")
    }

    fn stop_mode(&mut self, mode: &str) -> Result<(), PgError> {
        if !self.running {
            return Ok(());
        }
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data.display().to_string(),
                "-m",
                mode,
                "-w",
                "stop",
            ],
        )?;
        self.running = false;
        Ok(())
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) -> Result<(), PgError> {
        self.stop_mode("fast")?;
        self.start_server()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop_mode("immediate");
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const PASS: u8 = 0;
const CUT: u8 = 1;
const BLACKHOLE: u8 = 2;

/// A loopback TCP proxy in front of a server, to partition a booth from it: `cut`
/// closes every connection and refuses new ones, `blackhole` accepts and forwards
/// nothing (the network silently dropping packets), `restore` passes again.
pub struct FaultProxy {
    port: u16,
    mode: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl FaultProxy {
    pub fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (m, s, cs) = (mode.clone(), stop.clone(), conns.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let client = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                let _ = client.set_nonblocking(false);
                match m.load(Ordering::Relaxed) {
                    CUT => {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                    BLACKHOLE => {
                        // Held open, never answered.
                        cs.lock().unwrap().push(client);
                        continue;
                    }
                    _ => {}
                }
                let Ok(upstream) = TcpStream::connect_timeout(&target, Duration::from_secs(2))
                else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                for s in [&client, &upstream] {
                    if let Ok(c) = s.try_clone() {
                        cs.lock().unwrap().push(c);
                    }
                }
                for (from, to) in [(&client, &upstream), (&upstream, &client)] {
                    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                        continue;
                    };
                    let m = m.clone();
                    std::thread::spawn(move || pump(&mut from, &mut to, &m));
                }
            }
        });
        Ok(FaultProxy {
            port,
            mode,
            stop,
            conns,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn close_all(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
        self.close_all();
    }

    /// Stops forwarding: bytes sent are never answered, new connections hang.
    pub fn blackhole(&self) {
        self.mode.store(BLACKHOLE, Ordering::SeqCst);
    }

    /// Forwards again (connections held during a blackhole are closed).
    pub fn restore(&self) {
        self.close_all();
        self.mode.store(PASS, Ordering::SeqCst);
    }
}

fn pump(from: &mut TcpStream, to: &mut TcpStream, mode: &AtomicU8) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 16 * 1024];
    loop {
        if mode.load(Ordering::Relaxed) == BLACKHOLE {
            // Read and drop: the peer sees silence, as behind a dropped route.
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if is_timeout(&e) => continue,
                Err(_) => break,
            }
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if mode.load(Ordering::Relaxed) == BLACKHOLE {
                    continue;
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.close_all();
    }
}
