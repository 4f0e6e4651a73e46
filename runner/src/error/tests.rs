use super::*;

fn headers(request_id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("request-id", request_id.parse().unwrap());
    h
}

#[test]
fn api_error_reads_well() {
    let body = r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"}}"#;
    let e = Error::api(
        StatusCode::BAD_REQUEST,
        &headers("req_123"),
        Bytes::from(body),
        1,
        false,
    );
    assert_eq!(
        e.to_string(),
        "API error 400 invalid_request_error: messages: field required (request-id req_123)"
    );
    assert_eq!(e.api_error_type(), Some("invalid_request_error"));
    assert_eq!(e.request_id(), Some("req_123"));
    assert!(!e.is_retryable());
}

#[test]
fn platform_error_bodies_read_as_api_errors() {
    // AWS: the type in a header (with its documentation URL), or in
    // `__type` with a namespace; the request id in `x-amzn-requestid`.
    let mut aws = HeaderMap::new();
    aws.insert("x-amzn-requestid", "amzn-1".parse().unwrap());
    aws.insert(
        "x-amzn-errortype",
        "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
            .parse()
            .unwrap(),
    );
    let e = Error::api(
        StatusCode::TOO_MANY_REQUESTS,
        &aws,
        Bytes::from(r#"{"message":"Too many requests, please wait."}"#),
        1,
        true,
    );
    assert_eq!(
        e.to_string(),
        "API error 429 ThrottlingException: Too many requests, please wait. (request-id amzn-1)"
    );
    let e = Error::api(
        StatusCode::BAD_REQUEST,
        &HeaderMap::new(),
        Bytes::from(
            r#"{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}"#,
        ),
        1,
        false,
    );
    assert_eq!(e.api_error_type(), Some("ValidationException"));
    assert_eq!(e.api_message(), Some("bad"));
    // Google: an envelope, possibly in a list; its status is the type.
    for body in [
        r#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#,
        r#"[{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}]"#,
    ] {
        let e = Error::api(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            Bytes::from(body),
            1,
            false,
        );
        assert_eq!(e.api_error_type(), Some("PERMISSION_DENIED"), "{body}");
        assert_eq!(e.api_message(), Some("Permission denied"), "{body}");
    }
}

#[test]
fn exhausted_api_error_counts_attempts() {
    let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_9"}"#;
    let e = Error::api(
        StatusCode::from_u16(529).unwrap(),
        &HeaderMap::new(),
        Bytes::from(body),
        3,
        true,
    );
    assert_eq!(
        e.to_string(),
        "API error 529 overloaded_error: Overloaded (after 3 attempts, request-id req_9)"
    );
}

#[test]
fn api_error_without_json_shows_body_or_reason() {
    let e = Error::api(
        StatusCode::BAD_GATEWAY,
        &HeaderMap::new(),
        Bytes::from("<html>"),
        1,
        true,
    );
    assert_eq!(e.to_string(), r#"API error 502: "<html>""#);
    let e = Error::api(
        StatusCode::BAD_GATEWAY,
        &HeaderMap::new(),
        Bytes::new(),
        1,
        true,
    );
    assert_eq!(e.to_string(), "API error 502 Bad Gateway");
}

#[test]
fn file_errors_name_the_file() {
    let expired = r#"{"type":"error","error":{"type":"not_found_error","message":"gone","details":{"error_code":"file_expired"}}}"#;
    let e = Error::api(
        StatusCode::NOT_FOUND,
        &headers("r1"),
        Bytes::from(expired),
        1,
        false,
    )
    .with_file_id("file_1");
    assert!(e.is_file_expired() && !e.is_file_not_found() && e.is_api());
    assert_eq!(e.file_id(), Some("file_1"));
    assert_eq!(
        e.to_string(),
        "file `file_1` has expired: API error 404 not_found_error: gone (request-id r1)"
    );

    let missing = r#"{"type":"error","error":{"type":"not_found_error","message":"no"}}"#;
    let e = Error::api(
        StatusCode::NOT_FOUND,
        &HeaderMap::new(),
        Bytes::from(missing),
        1,
        false,
    );
    assert!(
        !e.is_file_not_found(),
        "a 404 without a file id is not about a file"
    );
    let e = e.with_file_id("file_2");
    assert!(e.is_file_not_found() && !e.is_file_expired());

    let cut = Error::download_incomplete("file_3", 10, None, None);
    assert!(cut.is_download_incomplete() && cut.is_retryable());
    assert_eq!(
        (cut.file_id(), cut.bytes_received()),
        (Some("file_3"), Some(10))
    );
    assert_eq!(
        cut.to_string(),
        "download of file `file_3` broke off after 10 bytes"
    );

    let io = Error::io(
        "create",
        std::path::Path::new("out/a.png"),
        std::io::ErrorKind::NotFound.into(),
    );
    assert!(io.is_io() && !io.is_retryable() && io.source().is_some());
    assert_eq!(io.to_string(), "could not create out/a.png");
}

#[test]
fn snippet_cuts_on_char_boundary() {
    let long = "é".repeat(300);
    let s = snippet(long.as_bytes());
    assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
    assert!(s.ends_with('…'));
    assert_eq!(snippet(b"short"), "short");
}

#[test]
fn error_is_send_sync_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Error>();
}
