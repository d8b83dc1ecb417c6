//! Which client a request comes from, for rate limiting behind reverse proxies.
//!
//! The TCP peer is the only address nobody but the network can forge. Behind a reverse proxy,
//! though, the peer is the proxy, and every client would share one rate-limit bucket. Proxies
//! say who they forwarded for in `Forwarded` (RFC 7239) or `X-Forwarded-For`, but a client can
//! send those headers too, with any addresses it likes. So the headers are read only when the
//! peer is a configured trusted proxy, and then from the right: each trusted proxy appends the
//! address it received the request from, so the right-most address that is *not* a trusted
//! proxy is the one the outermost trusted proxy actually saw. Everything left of it was
//! written by the client and is ignored. An entry there that is not an address (garbage, or an
//! obfuscated `for=_hidden` / `for=unknown`) stops the walk and the peer is used instead: we
//! cannot know what stood behind it, and guessing further left would let the client choose.
//!
//! `Forwarded` wins whenever it is present, so a proxy that writes only `X-Forwarded-For` must
//! strip any `Forwarded` header the client sent (and vice versa), or the client picks its own
//! address.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are treated as the IPv4 address they carry,
//! so a dual-stack listener cannot split one client into two. IPv6 clients are bucketed by /64,
//! the smallest block a subscriber is normally given: limiting single IPv6 addresses would let
//! anyone with a home connection step around the limit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How many hops, counted from the right, are examined. Real proxy chains are a few hops
/// long; the cap keeps a huge client-written header cheap.
const MAX_HOPS: usize = 32;

/// The reverse proxies whose forwarding headers are believed: a list of CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a list of CIDR ranges (`10.0.0.0/8`, `fd00::/8`) or bare addresses (`127.0.0.1`,
    /// `::1`, taken as /32 or /128), e.g. from a comma-separated setting. Whitespace around an
    /// item is ignored and empty items are skipped. Host bits below the prefix are ignored.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut list = Vec::new();
        for raw in items {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let cidr = Cidr::parse(raw).ok_or_else(|| {
                format!("{raw:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1/128)")
            })?;
            if !list.contains(&cidr) {
                list.push(cidr);
            }
        }
        Ok(TrustedProxies(list))
    }

    /// Trusts nobody: forwarding headers are always ignored and the peer is the client.
    pub fn none() -> Self {
        TrustedProxies(Vec::new())
    }

    /// True if `ip` (or the IPv4 address it maps) lies in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|cidr| cidr.contains(ip))
    }
}

/// The address a request comes from. `peer` is the TCP peer; `forwarded_for` and `forwarded`
/// are the raw values of every `X-Forwarded-For` and `Forwarded` header, in the order received.
///
/// An untrusted peer is the answer, whatever the headers say. From a trusted peer, the hops in
/// `Forwarded` (or, if no `Forwarded` header was sent, `X-Forwarded-For`) are walked from the
/// right: the first one not trusted is the answer; if every hop examined is trusted, the
/// left-most of them; if there are no hops or the walk meets something that is not an address,
/// the peer. The answer is never an IPv4-mapped IPv6 address.
pub fn resolve(
    peer: IpAddr,
    forwarded_for: &[&str],
    forwarded: &[&str],
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = if forwarded.iter().any(|value| !value.trim().is_empty()) {
        forwarded_hops(forwarded)
    } else {
        forwarded_for_hops(forwarded_for)
    };
    let mut leftmost_trusted = None;
    for hop in hops {
        match hop {
            Some(ip) if trusted.contains(ip) => leftmost_trusted = Some(ip),
            Some(ip) => return ip,
            None => return peer,
        }
    }
    leftmost_trusted.unwrap_or(peer)
}

/// The rate-limit key for an address: an IPv4 address as itself (`192.0.2.1`), an IPv6
/// address as its /64 (`2001:db8:1:2::/64`).
pub fn bucket(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX));
            format!("{network}/64")
        }
    }
}

/// One range of addresses: a network (host bits already cleared) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `address[/prefix]`, or `None` if either part is malformed or the prefix too long.
    fn parse(raw: &str) -> Option<Self> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address.parse().ok()?;
        let max = max_prefix(address);
        let prefix = match prefix {
            Some(p) if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return None;
            }
            Some(p) => p.parse().ok()?,
            None => max,
        };
        if prefix > max {
            return None;
        }
        Some(Cidr {
            network: mask(address, prefix),
            prefix,
        })
    }

    /// True if `ip` lies in the range. An IPv4 address is also in an IPv6 range that holds
    /// its mapped form (so `::/0` covers everything).
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.network, ip) {
            (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            _ => ip,
        };
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

/// 32 for IPv4, 128 for IPv6.
fn max_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ip` with every bit after the first `prefix` cleared.
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & keep))
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & keep))
        }
    }
}

/// The right-most `X-Forwarded-For` hops, right to left, at most [`MAX_HOPS`] of them;
/// `None` for an entry that is not an address. Blank entries are skipped.
fn forwarded_for_hops(values: &[&str]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .rev()
        .flat_map(|value| value.rsplit(','))
        .take(MAX_HOPS)
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_hop)
        .collect()
}

/// The right-most `Forwarded` hops (the `for=` of each element), right to left, at most
/// [`MAX_HOPS`] of them; `None` for an element whose `for` is missing, repeated, obfuscated or
/// otherwise not an address. Blank elements are skipped.
fn forwarded_hops(values: &[&str]) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in values.iter().rev() {
        for element in split_unquoted(value, ',').into_iter().rev() {
            if hops.len() == MAX_HOPS {
                return hops;
            }
            if element.trim().is_empty() {
                continue;
            }
            hops.push(for_parameter(element).and_then(parse_hop));
        }
    }
    hops
}

/// The value of the one `for` parameter of a `Forwarded` element, or `None` if there is not
/// exactly one. Parameter names are case-insensitive.
fn for_parameter(element: &str) -> Option<&str> {
    let mut found = None;
    for pair in split_unquoted(element, ';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None;
            }
            found = Some(value);
        }
    }
    found
}

/// `s` split at every `separator` that is not inside a double-quoted string.
fn split_unquoted(s: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == separator && !in_quotes {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// One address as a proxy writes it (see [`parse_hop`]): `None` unless it is an address.
/// IPv4-mapped IPv6 comes back as IPv4.
pub fn parse_address(raw: &str) -> Option<IpAddr> {
    parse_hop(raw)
}

/// One hop as an address: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:4711`, optionally in double quotes. `None` for anything else.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let ip = if let Some(rest) = raw.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        if !after.is_empty() && !after.strip_prefix(':').is_some_and(is_port) {
            return None;
        }
        IpAddr::V6(address.parse().ok()?)
    } else if let Ok(ip) = raw.parse::<IpAddr>() {
        ip
    } else {
        let (address, port) = raw.rsplit_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(address.parse().ok()?)
    };
    Some(ip.to_canonical())
}

/// A port as proxies write it: up to five digits, or an RFC 7239 obfuscated port (`_abc`).
fn is_port(s: &str) -> bool {
    let digits = !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = s.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    });
    digits || obfuscated
}

#[cfg(test)]
mod tests;
