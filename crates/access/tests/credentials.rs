use access::{
    PasswordParams, PasswordRuleError, TokenError, TokenHash, TokenRecord, UserId,
    check_password_rules, hash_password_with, new_token, verify_password,
};

#[test]
fn hash_and_verify() {
    let h = hash_password_with("correct horse battery", PasswordParams::TEST).expect("hash");
    assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
    assert!(verify_password("correct horse battery", &h));
    assert!(!verify_password("correct horse batterY", &h));
    assert!(!verify_password("correct horse battery", "not a hash"));
    // Random salt: the same password hashes differently.
    let h2 = hash_password_with("correct horse battery", PasswordParams::TEST).expect("hash");
    assert_ne!(h, h2);
}

#[test]
fn only_argon2id_verifies() {
    let h = hash_password_with("correct horse battery", PasswordParams::TEST).expect("hash");
    let argon2i = h.replacen("$argon2id$", "$argon2i$", 1);
    assert!(!verify_password("correct horse battery", &argon2i));
}

#[test]
fn default_params_are_owasp() {
    assert_eq!(PasswordParams::DEFAULT.m_kib, 19456);
    assert_eq!(PasswordParams::DEFAULT.t, 2);
}

#[test]
fn password_rules() {
    assert_eq!(
        check_password_rules("short"),
        Err(PasswordRuleError::TooShort)
    );
    assert_eq!(
        check_password_rules("elleve-tegn"),
        Err(PasswordRuleError::TooShort)
    );
    assert_eq!(
        check_password_rules("aaaaaaaaaaaaaaaa"),
        Err(PasswordRuleError::OneRepeatedChar)
    );
    assert_eq!(check_password_rules("tolv tegn er"), Ok(()));
    // Characters, not bytes: 11 letters with æøå is still too short.
    assert_eq!(
        check_password_rules("æøåæøåæøåæø"),
        Err(PasswordRuleError::TooShort)
    );
    assert_eq!(
        check_password_rules(&"ab".repeat(600)),
        Err(PasswordRuleError::TooLong)
    );
}

#[test]
fn tokens_are_random_and_hashed() {
    let (t1, h1) = new_token();
    let (t2, h2) = new_token();
    assert_eq!(t1.len(), 64);
    assert!(t1.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(t1, t2);
    assert_ne!(h1, h2);
    assert_eq!(TokenHash::of(&t1), h1);
    assert_ne!(h1.to_hex(), t1, "the token itself is never what is stored");
    assert_eq!(TokenHash::from_hex(&h1.to_hex()), Some(h1));
    assert_eq!(TokenHash::from_hex("zz"), None);
}

#[test]
fn token_check_expiry_revocation_unknown() {
    let (token, hash) = new_token();
    let mut rec = TokenRecord::new(hash, UserId("u7".into()), 1_000);
    assert_eq!(rec.check(&token, 999), Ok(UserId("u7".into())));
    assert_eq!(rec.check(&token, 1_000), Err(TokenError::Expired));
    let (other, _) = new_token();
    assert_eq!(rec.check(&other, 0), Err(TokenError::Unknown));
    assert_eq!(rec.check("", 0), Err(TokenError::Unknown));
    rec.revoke();
    assert_eq!(rec.check(&token, 0), Err(TokenError::Revoked));
    assert_eq!(rec.check(&token, 5_000), Err(TokenError::Revoked));
}

#[test]
fn default_hash_uses_default_params() {
    let h = access::hash_password("correct horse battery");
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert!(verify_password("correct horse battery", &h));
}
