//! A real PostgreSQL for one test (Debian's `postgresql-15`, never a mock): a cluster made
//! in a temporary folder, listening on a free loopback port, stopped when dropped.
//! `initdb` and `pg_ctl` refuse to run as root; as root they run as the `postgres` user
//! (`runuser`), the folder handed to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The login every test uses: the cluster's superuser, trusted on loopback.
pub const USER: &str = "ekyc";

pub struct Postgres {
    folder: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
    options: String,
}

impl Postgres {
    /// A new cluster, started.
    pub fn start() -> Self {
        Self::start_with(String::new(), &[])
    }

    /// A new cluster serving TLS with `cert` and `key` (PEM) as well as plain TCP.
    pub fn start_with_tls(cert: &Path, key: &Path) -> Self {
        Self::start_with(
            "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into(),
            &[(cert, "server.crt"), (key, "server.key")],
        )
    }

    fn start_with(options: String, files: &[(&Path, &str)]) -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
                    .filter(|bin| bin.join("initdb").exists())
                    .max()
            })
            .expect(
                "PostgreSQL's server is installed (apt-get install postgresql-15; ./test does)",
            );
        let as_postgres = run_output(Command::new("id").arg("-u")).stdout.trim_ascii() == b"0";
        let folder = tempfile::Builder::new()
            .prefix("ekyc-pg")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = folder.path().join("data");
        let server = Self {
            folder,
            bin,
            port,
            as_postgres,
            options,
        };
        server.as_owner(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        for (from, name) in files {
            let to = data.join(name);
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        server.hand_over();
        server.pg_ctl_start();
        server
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    /// Gives the folder to the `postgres` user when running as root.
    fn hand_over(&self) {
        if self.as_postgres {
            run(Command::new("chown").args([
                "-R",
                "postgres:postgres",
                self.folder.path().to_str().unwrap(),
            ]));
        }
    }

    /// `program` of the server's own, run as the `postgres` user when this is root.
    fn owner_command(&self, program: &str) -> Command {
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join(program));
            command
        } else {
            Command::new(self.bin.join(program))
        }
    }

    fn as_owner(&self, program: &str, arguments: &[&str]) -> Output {
        self.hand_over();
        run(self.owner_command(program).args(arguments))
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off {}",
            self.port,
            self.folder.path().display(),
            self.options
        );
        let log = self.folder.path().join("server.log");
        self.as_owner(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server (fast: open connections are cut).
    /// Freezes the server (SIGSTOP to it and its processes) until the answer is dropped:
    /// its machine still accepts connections, nothing answers them, as with a server hung
    /// in a failover. Thawed on drop, so that a failing test does not leave it frozen
    /// (the runtime's end waits for the calls stuck on it).
    pub fn frozen(&self) -> Frozen<'_> {
        self.signal("STOP");
        Frozen(self)
    }

    fn signal(&self, name: &str) {
        let pid_file = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        let postmaster = pid_file.lines().next().unwrap().trim().to_owned();
        // Its children first: a stopped postmaster cannot be asked for them.
        let _ = Command::new("pkill")
            .args([&format!("-{name}"), "-P", &postmaster])
            .status();
        run(Command::new("kill").args([&format!("-{name}"), &postmaster]));
    }

    pub fn stop(&self) {
        self.as_owner(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts it again after [`Self::stop`], on the same port.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    /// The address of the database `name` (made by [`Self::create_database`]).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// An engine keeping its enrolments, sessions and challenges in database `name`,
    /// sealed with the key in `folder`: one replica of a bank's.
    pub async fn engine(&self, name: &str, folder: &Path) -> ekyc_engine::EngineHandle {
        let enrolments = ekyc_engine::Enrolments::in_postgres(
            ekyc_engine::enrolments::DatabaseSettings {
                url: self.url(name),
                password_file: None,
                ca_file: None,
                max_connections: 2,
            },
            folder.join("enrolment.key"),
            std::time::Duration::from_secs(86_400),
        );
        super::start_engine(ekyc_engine::EngineSettings {
            enrolments: Some(std::sync::Arc::new(enrolments)),
            ..ekyc_engine::EngineSettings::default()
        })
        .await
    }

    /// Two replicas of a bank on a new server's database `bank`, one key file: the
    /// server, the key's folder and the two engines.
    pub async fn two_replicas() -> (
        Self,
        tempfile::TempDir,
        ekyc_engine::EngineHandle,
        ekyc_engine::EngineHandle,
    ) {
        let server = Self::start();
        server.create_database("bank");
        let folder = tempfile::tempdir().unwrap();
        let a = server.engine("bank", folder.path()).await;
        let b = server.engine("bank", folder.path()).await;
        (server, folder, a, b)
    }

    /// Makes an empty database.
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
    }

    /// Runs `sql` in database `name`; its output, unaligned, tuples only.
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let output = run(Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", name, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]));
        String::from_utf8(output.stdout).unwrap()
    }

    /// `pg_dump` of database `name`: what a backup of it holds.
    pub fn dump(&self, name: &str) -> String {
        let output = run(Command::new(self.bin.join("pg_dump")).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            USER,
            name,
        ]));
        String::from_utf8(output.stdout).unwrap()
    }
}

/// A frozen server ([`Postgres::frozen`]).
pub struct Frozen<'a>(&'a Postgres);

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        self.0.signal("CONT");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .owner_command("pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn run_output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("{command:?}: {error}"))
}

fn run(command: &mut Command) -> Output {
    let output = run_output(command);
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
