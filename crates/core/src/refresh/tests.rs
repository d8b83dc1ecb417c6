use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    secret: String,
    policy: RefreshPolicy,
    derivations: Vec<Derivation>,
    decisions: Vec<DecisionCase>,
    shapes: Vec<Shape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Derivation {
    session_id: String,
    seed: String,
    generation: i64,
    token: String,
    hash: String,
}

#[derive(Deserialize)]
struct DecisionCase {
    name: String,
    session: SessionState,
    token: PresentedToken,
    now: i64,
    expect: Expected,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum Expected {
    #[serde(rename_all = "camelCase")]
    Rotate {
        generation: i64,
        expires_at_ms: i64,
    },
    Resend {
        generation: i64,
    },
    Revoke(serde::de::IgnoredAny),
    Error(String),
}

#[derive(Deserialize)]
struct Shape {
    token: String,
    ok: bool,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../../../tests/vectors/refresh.json")).unwrap()
}

#[test]
fn derivation_and_hash_match_the_shared_vectors() {
    let v = vectors();
    let key = RefreshKey::new(&Secret::parse(v.secret.as_bytes()).unwrap());
    for d in &v.derivations {
        let token = key.token(&d.session_id, &d.seed, d.generation);
        assert_eq!(token, d.token, "{} gen {}", d.session_id, d.generation);
        assert_eq!(hash(&token), d.hash);
        assert!(check_shape(&token).is_ok());
    }
}

#[test]
fn every_decision_vector_gives_its_expected_answer() {
    let v = vectors();
    assert!(v.decisions.len() >= 10);
    for case in &v.decisions {
        let got = decide(&case.session, &case.token, case.now, &v.policy);
        let want = match &case.expect {
            Expected::Rotate {
                generation,
                expires_at_ms,
            } => Ok(Decision::Rotate {
                generation: *generation,
                expires_at_ms: *expires_at_ms,
            }),
            Expected::Resend { generation } => Ok(Decision::Resend {
                generation: *generation,
            }),
            Expected::Revoke(_) => Ok(Decision::Revoke),
            Expected::Error(code) => {
                assert_eq!(
                    got.as_ref().map_err(Error::code),
                    Err(code.as_str()),
                    "{}",
                    case.name
                );
                continue;
            }
        };
        assert_eq!(got, want, "{}", case.name);
    }
}

#[test]
fn token_shapes_are_checked_before_any_lookup() {
    for shape in vectors().shapes {
        assert_eq!(
            check_shape(&shape.token).is_ok(),
            shape.ok,
            "{:?}",
            shape.token
        );
    }
}

#[test]
fn a_grace_window_of_zero_makes_every_reuse_a_revocation() {
    let policy = RefreshPolicy {
        grace_ms: 0,
        ..RefreshPolicy::DEFAULT
    };
    let session = SessionState {
        generation: 1,
        revoked: false,
        expires_at_ms: 10_000,
        absolute_expires_at_ms: 10_000,
    };
    let spent = PresentedToken {
        generation: 0,
        spent_at_ms: Some(500),
    };
    assert_eq!(decide(&session, &spent, 500, &policy), Ok(Decision::Revoke));
}

#[test]
fn different_keys_sessions_seeds_and_generations_never_collide() {
    let a = RefreshKey::new(&Secret::parse("a".repeat(32)).unwrap());
    let b = RefreshKey::new(&Secret::parse("b".repeat(32)).unwrap());
    let tokens = [
        a.token("s1", "seed", 0),
        a.token("s1", "seed", 1),
        a.token("s2", "seed", 0),
        a.token("s1", "seee", 0),
        b.token("s1", "seed", 0),
        // The length prefix keeps ("s1s", "eed") apart from ("s1", "seed").
        a.token("s1s", "eed", 0),
    ];
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len());
}
