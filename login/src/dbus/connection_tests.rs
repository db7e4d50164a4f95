use super::*;

#[test]
fn parses_unix_addresses_and_skips_others() {
    assert_eq!(
        parse_addresses("unix:path=/run/user/1000/bus"),
        [BusAddress::Path("/run/user/1000/bus".into())]
    );
    assert_eq!(
        parse_addresses("tcp:host=x,port=1;unix:abstract=/tmp/dbus-A%2cb,guid=00"),
        [BusAddress::Abstract(b"/tmp/dbus-A,b".to_vec())]
    );
    assert!(parse_addresses("unix:tmpdir=/tmp").is_empty());
    assert!(parse_addresses("unix:path=%zz").is_empty());
    assert!(parse_addresses("").is_empty());
}

#[test]
fn session_address_comes_from_the_variable_then_the_runtime_dir() {
    assert_eq!(
        session_bus_addresses(Some("unix:path=/x"), None),
        Ok(vec![BusAddress::Path("/x".into())])
    );
    assert!(matches!(
        session_bus_addresses(Some("tcp:host=a"), None),
        Err(BusError::NoBus(_))
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        session_bus_addresses(None, Some(dir.path().as_os_str())),
        Err(BusError::NoBus(_))
    ));
    std::fs::write(dir.path().join("bus"), "").unwrap();
    assert_eq!(
        session_bus_addresses(Some(""), Some(dir.path().as_os_str())),
        Ok(vec![BusAddress::Path(dir.path().join("bus"))])
    );
}

/// A bus played by the test: `script` gets the accepted stream.
fn fake_bus(script: impl FnOnce(UnixStream) + Send + 'static) -> (tempfile::TempDir, BusAddress) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            script(stream);
        }
    });
    (dir, BusAddress::Path(path))
}

fn read_line(stream: &mut UnixStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        line.push(byte[0]);
    }
    line
}

#[test]
fn sends_external_auth_for_this_uid_and_stops_when_rejected() {
    let (sender, received) = std::sync::mpsc::channel();
    let (_dir, address) = fake_bus(move |mut stream| {
        sender.send(read_line(&mut stream)).unwrap();
        stream.write_all(b"REJECTED EXTERNAL\r\n").unwrap();
    });
    let result = Connection::open(&[address], Duration::from_secs(5));
    assert_eq!(result.err(), Some(BusError::AuthRejected));
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() }.to_string();
    let hex: String = uid.bytes().map(|byte| format!("{byte:02x}")).collect();
    assert_eq!(
        received.recv().unwrap(),
        format!("\0AUTH EXTERNAL {hex}\r\n").into_bytes()
    );
}

#[test]
fn a_hostile_bus_cannot_make_the_client_read_without_bound() {
    let (_dir, address) = fake_bus(|mut stream| {
        read_line(&mut stream);
        stream.write_all(b"OK 0123456789abcdef\r\n").unwrap();
        // A header announcing a 4 GiB body.
        let mut header = vec![b'l', 2, 0, 1];
        header.extend_from_slice(&u32::MAX.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        let _ = stream.write_all(&header);
        std::thread::sleep(Duration::from_millis(200));
    });
    let result = Connection::open(&[address], Duration::from_secs(5));
    assert!(
        matches!(&result, Err(BusError::Wire(message)) if message.contains("larger than 1 MiB")),
        "{:?}",
        result.err()
    );
}

#[test]
fn a_silent_bus_is_a_timeout_not_a_hang() {
    let (_dir, address) = fake_bus(|stream| {
        std::thread::sleep(Duration::from_secs(3));
        drop(stream);
    });
    let result = Connection::open(&[address], Duration::from_millis(200));
    assert!(
        matches!(result, Err(BusError::Timeout(_))),
        "{:?}",
        result.err()
    );
}

#[test]
fn a_missing_socket_is_no_bus() {
    let dir = tempfile::tempdir().unwrap();
    let address = BusAddress::Path(dir.path().join("missing"));
    assert!(matches!(
        Connection::open(&[address], Duration::from_secs(1)),
        Err(BusError::NoBus(_))
    ));
}
