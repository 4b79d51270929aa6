use access::{csrf_token, hmac_sha256, verify_csrf};

#[test]
fn hmac_matches_rfc_4231() {
    // Test case 1.
    assert_eq!(
        hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2.
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: a key longer than the block is hashed first.
    assert_eq!(
        hex::encode(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn csrf_tokens_bind_to_session_and_secret() {
    let secret = b"server secret of some length";
    let t = csrf_token(secret, "session-1");
    assert_eq!(t.len(), 64);
    assert!(verify_csrf(secret, "session-1", &t));
    assert!(!verify_csrf(secret, "session-2", &t));
    assert!(!verify_csrf(b"another secret", "session-1", &t));
    assert!(!verify_csrf(secret, "session-1", ""));
    assert!(!verify_csrf(secret, "session-1", &t[..63]));
    assert_eq!(t, csrf_token(secret, "session-1"), "deterministic");
}
