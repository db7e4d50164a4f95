//! A blocking connection to the D-Bus session bus: address lookup, `EXTERNAL` authentication
//! over the unix socket, `Hello`, method calls and waiting for a signal.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::message::{FIXED_HEADER_BYTES, Message, MessageType};
use super::wire::{Value, WireError};

const BUS_NAME: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
/// Longest authentication line accepted from the bus.
const MAX_AUTH_LINE: usize = 512;
/// Signals kept while waiting for a reply (others are dropped).
const MAX_QUEUED: usize = 64;

/// Why talking to the bus failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BusError {
    /// No session bus could be reached (no address, nothing listening, not ours).
    #[error("{0}")]
    NoBus(String),
    #[error("the session bus connection failed: {0}")]
    Io(String),
    #[error("the session bus refused authentication")]
    AuthRejected,
    #[error("{0}")]
    Wire(String),
    #[error("no reply from the session bus within {0} s")]
    Timeout(u64),
    /// An error reply: its name and text (`org.freedesktop.DBus.Error.ServiceUnknown`, …).
    #[error("{name}: {text}")]
    Remote { name: String, text: String },
}

impl From<WireError> for BusError {
    fn from(error: WireError) -> Self {
        BusError::Wire(error.to_string())
    }
}

fn io_error(error: &io::Error) -> BusError {
    if matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        BusError::Timeout(0)
    } else {
        BusError::Io(error.to_string())
    }
}

/// Where the session bus listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BusAddress {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

/// The usable addresses of a `DBUS_SESSION_BUS_ADDRESS` value (`unix:path=…` and
/// `unix:abstract=…`, `;`-separated, `%xx`-escaped); other transports are skipped.
pub(crate) fn parse_addresses(text: &str) -> Vec<BusAddress> {
    let mut addresses = Vec::new();
    for entry in text.split(';') {
        let Some(options) = entry.strip_prefix("unix:") else {
            continue;
        };
        for option in options.split(',') {
            let Some((key, value)) = option.split_once('=') else {
                continue;
            };
            let Some(value) = unescape(value) else {
                continue;
            };
            match key {
                "path" => {
                    use std::os::unix::ffi::OsStringExt;
                    addresses.push(BusAddress::Path(PathBuf::from(
                        std::ffi::OsString::from_vec(value),
                    )));
                }
                "abstract" => addresses.push(BusAddress::Abstract(value)),
                _ => {}
            }
        }
    }
    addresses
}

fn unescape(value: &str) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    Some(out)
}

/// The session bus addresses from the environment: `DBUS_SESSION_BUS_ADDRESS`, else
/// `$XDG_RUNTIME_DIR/bus` when it exists.
pub(crate) fn session_bus_addresses(
    bus_address: Option<&str>,
    runtime_dir: Option<&std::ffi::OsStr>,
) -> Result<Vec<BusAddress>, BusError> {
    if let Some(text) = bus_address.filter(|text| !text.is_empty()) {
        let addresses = parse_addresses(text);
        if addresses.is_empty() {
            return Err(BusError::NoBus(
                "`DBUS_SESSION_BUS_ADDRESS` names no unix socket".to_string(),
            ));
        }
        return Ok(addresses);
    }
    if let Some(dir) = runtime_dir.filter(|dir| !dir.is_empty()) {
        let path = PathBuf::from(dir).join("bus");
        if path.exists() {
            return Ok(vec![BusAddress::Path(path)]);
        }
    }
    Err(BusError::NoBus(
        "no session bus (`DBUS_SESSION_BUS_ADDRESS` is not set)".to_string(),
    ))
}

pub(crate) struct Connection {
    stream: UnixStream,
    next_serial: u32,
    timeout: Duration,
    queued: VecDeque<Message>,
}

impl Connection {
    /// Connect to the first reachable address, check the bus runs as this user (or root),
    /// authenticate and say `Hello`.
    pub fn open(addresses: &[BusAddress], timeout: Duration) -> Result<Connection, BusError> {
        let mut last = BusError::NoBus("no session bus address".to_string());
        for address in addresses {
            match connect(address) {
                Ok(stream) => {
                    let mut connection = Connection {
                        stream,
                        next_serial: 1,
                        timeout,
                        queued: VecDeque::new(),
                    };
                    connection.authenticate()?;
                    connection.call(Message::method_call(
                        BUS_NAME,
                        BUS_PATH,
                        BUS_NAME,
                        "Hello",
                        Vec::new(),
                    ))?;
                    return Ok(connection);
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    fn authenticate(&mut self) -> Result<(), BusError> {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let hex: String = uid
            .to_string()
            .bytes()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.set_deadline(Instant::now() + self.timeout)?;
        self.stream
            .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())
            .map_err(|error| io_error(&error))?;
        let line = self.read_auth_line()?;
        if !line.starts_with("OK ") {
            return Err(BusError::AuthRejected);
        }
        self.stream
            .write_all(b"BEGIN\r\n")
            .map_err(|error| io_error(&error))
    }

    fn read_auth_line(&mut self) -> Result<String, BusError> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            if line.len() >= MAX_AUTH_LINE {
                return Err(BusError::Wire("authentication line too long".to_string()));
            }
            match self.stream.read(&mut byte) {
                Ok(0) => return Err(BusError::AuthRejected),
                Ok(_) => line.push(byte[0]),
                Err(error) => return Err(io_error(&error)),
            }
        }
        String::from_utf8(line).map_err(|_| BusError::Wire("authentication reply".to_string()))
    }

    fn set_deadline(&self, deadline: Instant) -> Result<(), BusError> {
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(BusError::Timeout(self.timeout.as_secs()))?;
        for result in [
            self.stream.set_read_timeout(Some(remaining)),
            self.stream.set_write_timeout(Some(remaining)),
        ] {
            result.map_err(|error| io_error(&error))?;
        }
        Ok(())
    }

    fn send(&mut self, message: &Message) -> Result<u32, BusError> {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1).max(1);
        self.set_deadline(Instant::now() + self.timeout)?;
        self.stream
            .write_all(&message.encode(serial))
            .map_err(|error| io_error(&error))?;
        Ok(serial)
    }

    fn receive(&mut self, deadline: Instant, limit: Duration) -> Result<Message, BusError> {
        let timed_out = |error: BusError| match error {
            BusError::Timeout(_) => BusError::Timeout(limit.as_secs()),
            other => other,
        };
        self.set_deadline(deadline).map_err(timed_out)?;
        let mut start = [0u8; FIXED_HEADER_BYTES];
        self.stream
            .read_exact(&mut start)
            .map_err(|error| timed_out(io_error(&error)))?;
        let total = Message::total_length(&start)?;
        let mut bytes = start.to_vec();
        bytes.resize(total, 0);
        self.set_deadline(deadline).map_err(timed_out)?;
        self.stream
            .read_exact(&mut bytes[FIXED_HEADER_BYTES..])
            .map_err(|error| timed_out(io_error(&error)))?;
        Ok(Message::decode(&bytes)?)
    }

    /// Send a method call and wait for its reply; an error reply is [`BusError::Remote`].
    /// Signals that arrive meanwhile are kept for [`Connection::wait_for_signal`].
    pub fn call(&mut self, message: Message) -> Result<Vec<Value>, BusError> {
        let serial = self.send(&message)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let reply = self.receive(deadline, self.timeout)?;
            match reply.kind {
                MessageType::MethodReturn | MessageType::Error
                    if reply.reply_serial == Some(serial) =>
                {
                    if reply.kind == MessageType::Error {
                        return Err(BusError::Remote {
                            name: reply.error_name.clone().unwrap_or_default(),
                            text: reply.error_text(),
                        });
                    }
                    return Ok(reply.body);
                }
                MessageType::Signal if self.queued.len() < MAX_QUEUED => {
                    self.queued.push_back(reply);
                }
                _ => {}
            }
        }
    }

    /// Ask the bus to route the signals matching `rule` to this connection.
    pub fn add_match(&mut self, rule: &str) -> Result<(), BusError> {
        self.call(Message::method_call(
            BUS_NAME,
            BUS_PATH,
            BUS_NAME,
            "AddMatch",
            vec![Value::str(rule)],
        ))
        .map(|_| ())
    }

    /// Wait up to `limit` for a signal accepted by `accept`.
    pub fn wait_for_signal(
        &mut self,
        limit: Duration,
        accept: impl Fn(&Message) -> bool,
    ) -> Result<Message, BusError> {
        if let Some(index) = self.queued.iter().position(&accept)
            && let Some(signal) = self.queued.remove(index)
        {
            return Ok(signal);
        }
        let deadline = Instant::now() + limit;
        loop {
            let message = self.receive(deadline, limit)?;
            if message.kind == MessageType::Signal && accept(&message) {
                return Ok(message);
            }
        }
    }
}

fn connect(address: &BusAddress) -> Result<UnixStream, BusError> {
    let stream = match address {
        BusAddress::Path(path) => UnixStream::connect(path).map_err(|error| {
            BusError::NoBus(format!(
                "cannot connect to the session bus at `{}`: {error}",
                path.display()
            ))
        })?,
        BusAddress::Abstract(name) => connect_abstract(name)?,
    };
    check_peer(&stream)?;
    Ok(stream)
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &[u8]) -> Result<UnixStream, BusError> {
    use std::os::linux::net::SocketAddrExt;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name)
        .map_err(|error| BusError::NoBus(format!("invalid abstract bus address: {error}")))?;
    UnixStream::connect_addr(&address)
        .map_err(|error| BusError::NoBus(format!("cannot connect to the session bus: {error}")))
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &[u8]) -> Result<UnixStream, BusError> {
    Err(BusError::NoBus(
        "abstract bus addresses exist only on Linux".to_string(),
    ))
}

/// The bus must run as this user or as root: a socket someone else set up could pose as the
/// Secret Service and collect what is written to it.
#[cfg(target_os = "linux")]
fn check_peer(stream: &UnixStream) -> Result<(), BusError> {
    use std::os::fd::AsRawFd;
    let mut credentials = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut length = libc::socklen_t::try_from(std::mem::size_of::<libc::ucred>())
        .map_err(|_| BusError::Io("socklen".to_string()))?;
    // SAFETY: SO_PEERCRED writes at most `length` bytes into `credentials`, which lives for the
    // whole call; the descriptor is open (owned by `stream`).
    let status = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut credentials as *mut libc::ucred).cast(),
            &mut length,
        )
    };
    if status != 0 {
        return Err(BusError::Io(io::Error::last_os_error().to_string()));
    }
    // SAFETY: getuid has no preconditions.
    let own = unsafe { libc::getuid() };
    if credentials.uid != own && credentials.uid != 0 {
        return Err(BusError::NoBus(format!(
            "the session bus socket belongs to uid {}, not to this user",
            credentials.uid
        )));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn check_peer(_stream: &UnixStream) -> Result<(), BusError> {
    Ok(())
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
