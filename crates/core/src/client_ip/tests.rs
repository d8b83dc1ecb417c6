use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn private() -> TrustedProxies {
    TrustedProxies::parse(["10.0.0.0/8", "fd00::/8"]).unwrap()
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_the_headers_say() {
    let trusted = private();
    let peer = ip("203.0.113.5");
    assert_eq!(resolve(peer, &["198.51.100.7"], &[], &trusted), peer);
    assert_eq!(resolve(peer, &[], &["for=198.51.100.7"], &trusted), peer);
    assert_eq!(
        resolve(peer, &["198.51.100.7"], &[], &TrustedProxies::none()),
        peer
    );
}

#[test]
fn a_trusted_peer_yields_the_right_most_untrusted_forwarded_for_entry() {
    let xff = ["203.0.113.9, 198.51.100.7, 10.0.0.1"];
    assert_eq!(
        resolve(ip("10.0.0.2"), &xff, &[], &private()),
        ip("198.51.100.7")
    );
}

#[test]
fn an_address_the_client_wrote_on_the_left_does_not_win() {
    // The client sent `X-Forwarded-For: 10.0.0.9`, claiming to be a proxy itself; the
    // trusted proxy appended the address it really saw.
    let xff = ["10.0.0.9, 198.51.100.7"];
    assert_eq!(
        resolve(ip("10.0.0.2"), &xff, &[], &private()),
        ip("198.51.100.7")
    );
}

#[test]
fn when_every_hop_is_trusted_the_left_most_is_the_client() {
    let xff = ["10.1.1.1, 10.0.0.1"];
    assert_eq!(
        resolve(ip("10.0.0.2"), &xff, &[], &private()),
        ip("10.1.1.1")
    );
}

#[test]
fn no_hops_or_garbage_on_the_right_falls_back_to_the_peer() {
    let peer = ip("10.0.0.2");
    let trusted = private();
    assert_eq!(resolve(peer, &[], &[], &trusted), peer);
    assert_eq!(resolve(peer, &[""], &[], &trusted), peer);
    assert_eq!(
        resolve(peer, &["198.51.100.7, not-an-ip, 10.0.0.1"], &[], &trusted),
        peer
    );
    assert_eq!(
        resolve(peer, &["198.51.100.7, 1.2.3.4.5"], &[], &trusted),
        peer
    );
}

#[test]
fn forwarded_for_entries_may_carry_ports_and_brackets() {
    let peer = ip("10.0.0.2");
    let trusted = private();
    assert_eq!(
        resolve(peer, &["198.51.100.7:5678"], &[], &trusted),
        ip("198.51.100.7")
    );
    assert_eq!(
        resolve(peer, &["[2001:db8::1]:80, 10.0.0.1"], &[], &trusted),
        ip("2001:db8::1")
    );
    assert_eq!(
        resolve(peer, &["[2001:db8::1]"], &[], &trusted),
        ip("2001:db8::1")
    );
    assert_eq!(
        resolve(peer, &["2001:db8::1"], &[], &trusted),
        ip("2001:db8::1")
    );
    assert_eq!(resolve(peer, &["[2001:db8::1]:x"], &[], &trusted), peer);
}

#[test]
fn several_header_values_are_read_as_one_list_in_order() {
    let peer = ip("10.0.0.2");
    let trusted = private();
    assert_eq!(
        resolve(
            peer,
            &["203.0.113.9, 198.51.100.7", "10.0.0.1"],
            &[],
            &trusted
        ),
        ip("198.51.100.7")
    );
    assert_eq!(
        resolve(
            peer,
            &["198.51.100.7", "203.0.113.9, 10.0.0.1"],
            &[],
            &trusted
        ),
        ip("203.0.113.9")
    );
    assert_eq!(
        resolve(peer, &[], &["for=198.51.100.7", "for=10.0.0.1"], &trusted),
        ip("198.51.100.7")
    );
}

#[test]
fn forwarded_takes_precedence_and_its_quoted_and_ipv6_forms_parse() {
    let peer = ip("10.0.0.2");
    let trusted = private();
    assert_eq!(
        resolve(
            peer,
            &["203.0.113.9"],
            &["for=198.51.100.7;proto=https, for=10.0.0.1"],
            &trusted
        ),
        ip("198.51.100.7")
    );
    assert_eq!(
        resolve(peer, &[], &[r#"For="[2001:db8::1]:4711""#], &trusted),
        ip("2001:db8::1")
    );
    assert_eq!(
        resolve(peer, &[], &["for=192.0.2.60:8080;by=10.0.0.1"], &trusted),
        ip("192.0.2.60")
    );
    assert_eq!(
        resolve(
            peer,
            &[],
            &[r#"proto=https;FOR="192.0.2.60";by="a;b,c", for="[fd00::1]""#],
            &trusted
        ),
        ip("192.0.2.60")
    );
}

#[test]
fn obfuscated_or_missing_forwarded_identifiers_fall_back_to_the_peer() {
    let peer = ip("10.0.0.2");
    let trusted = private();
    for forwarded in [
        "for=198.51.100.7, for=unknown",
        "for=198.51.100.7, for=_hidden",
        "for=198.51.100.7, proto=https",
        "for=198.51.100.7, for=203.0.113.9;for=10.0.0.1",
    ] {
        assert_eq!(
            resolve(peer, &[], &[forwarded], &trusted),
            peer,
            "{forwarded}"
        );
    }
    assert_eq!(
        resolve(
            peer,
            &[],
            &["for=unknown, for=198.51.100.7:_port"],
            &trusted
        ),
        ip("198.51.100.7")
    );
}

#[test]
fn ipv4_mapped_addresses_are_treated_as_ipv4() {
    let trusted = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
    assert!(trusted.contains(ip("::ffff:10.1.2.3")));
    assert_eq!(
        resolve(ip("::ffff:10.0.0.2"), &["198.51.100.7"], &[], &trusted),
        ip("198.51.100.7")
    );
    assert_eq!(
        resolve(ip("::ffff:203.0.113.5"), &[], &[], &trusted),
        ip("203.0.113.5")
    );
    assert_eq!(
        resolve(ip("10.0.0.2"), &["[::ffff:198.51.100.7]:80"], &[], &trusted),
        ip("198.51.100.7")
    );
    assert_eq!(bucket(ip("::ffff:198.51.100.7")), "198.51.100.7");
}

#[test]
fn ipv6_clients_share_a_bucket_per_slash_64() {
    let a = bucket(ip("2001:db8:1:2:aaaa::1"));
    let b = bucket(ip("2001:db8:1:2:bbbb::2"));
    let c = bucket(ip("2001:db8:1:3::1"));
    assert_eq!(a, "2001:db8:1:2::/64");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(bucket(ip("::1")), "::/64");
    assert_eq!(bucket(ip("198.51.100.7")), "198.51.100.7");
}

#[test]
fn ranges_and_bare_addresses_parse_into_trusted_proxies() {
    let trusted = TrustedProxies::parse([
        " 10.0.0.0/8 ",
        "",
        "127.0.0.1/32",
        "::1/128",
        "fd00::/8",
        "192.0.2.1",
        "2001:db8::5",
    ])
    .unwrap();
    for inside in [
        "10.255.0.1",
        "127.0.0.1",
        "::1",
        "fd12::1",
        "192.0.2.1",
        "2001:db8::5",
    ] {
        assert!(trusted.contains(ip(inside)), "{inside}");
    }
    for outside in [
        "11.0.0.1",
        "127.0.0.2",
        "::2",
        "fe00::1",
        "192.0.2.2",
        "2001:db8::6",
    ] {
        assert!(!trusted.contains(ip(outside)), "{outside}");
    }
    let everything = TrustedProxies::parse(["0.0.0.0/0", "::/0"]).unwrap();
    assert!(everything.contains(ip("203.0.113.5")));
    assert!(everything.contains(ip("2001:db8::1")));
    assert!(!TrustedProxies::none().contains(ip("127.0.0.1")));
    assert_eq!(
        TrustedProxies::parse(["", "  "]).unwrap(),
        TrustedProxies::none()
    );
}

#[test]
fn malformed_ranges_are_refused_naming_the_item() {
    for bad in [
        "10.0.0.0/33",
        "nonsense",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0.0/8/8",
        "10.0.0/8",
        "/8",
        "fe80::1%eth0",
    ] {
        let err = TrustedProxies::parse([bad]).unwrap_err();
        assert!(err.contains(bad), "{err}");
    }
}

#[test]
fn a_huge_header_is_resolved_from_its_right_end() {
    let mut entries: Vec<String> = (0..10_000)
        .map(|i| format!("198.51.{}.{}", i / 250, i % 250))
        .collect();
    entries.push("10.0.0.1".to_string());
    let xff = entries.join(", ");
    assert_eq!(
        resolve(ip("10.0.0.2"), &[xff.as_str()], &[], &private()),
        ip("198.51.39.249")
    );

    let all_trusted: Vec<String> = (0..10_000)
        .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
        .collect();
    let xff = all_trusted.join(",");
    // Only the right-most 32 hops are examined; the left-most of those is the answer.
    assert_eq!(
        resolve(ip("10.0.0.2"), &[xff.as_str()], &[], &private()),
        ip("10.0.39.218")
    );
}
