//! `chat-admin … | head`: when the reader has gone, chat-admin ends quietly with success
//! instead of panicking on the write.
//!
//! No AWS needed: a one-shot stand-in for DynamoDB answers `table create` with
//! ResourceInUseException, so chat-admin prints "table …: already exists" into a pipe
//! whose reading end is already closed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

/// Answers every request on `listener` as DynamoDB does for a table that exists.
fn serve_table_exists(listener: TcpListener) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        // The request itself does not matter: read what arrived, answer, close.
        let mut request = [0u8; 64 * 1024];
        let _ = stream.read(&mut request);
        let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceInUseException","message":"Table already exists"}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || serve_table_exists(listener));

    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader); // `head` has read all it wanted
    let output = Command::new(env!("CARGO_BIN_EXE_chat-admin"))
        .args(["--table", "closed-pipe", "table", "create"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .stdout(writer)
        .output()
        .expect("chat-admin runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {stderr}",
        output.status
    );
    assert!(stderr.is_empty(), "nothing on stderr, got: {stderr}");
}
