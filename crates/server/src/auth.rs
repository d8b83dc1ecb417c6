//! Who is calling: a bearer token or the access cookie, and the CSRF rule for the cookie.
//!
//! A token is trusted only after two checks: the core verifies the JWT (signature, algorithm,
//! claims, expiry against the injected clock), then the session it names must still be live
//! (asked of the store, or of the short-lived [`crate::liveness`] cache), so signing out or
//! revoking a session takes effect on the next request.
//!
//! The bearer header wins when both are sent; only a cookie-authenticated request is
//! subject to the CSRF rule, because only cookies are attached by the browser on its own.

use std::sync::Arc;

use latchkey_core::cookie::CookieKind;
use std::net::IpAddr;

use latchkey_core::{AccessClaims, Error, bearer, bridge, client_ip, csrf};
use poem::http::header;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::error::ApiError;
use crate::settings::ForwardedHeader;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub claims: AccessClaims,
    /// True when the access token came from the cookie rather than the bearer header.
    pub by_cookie: bool,
}

/// Either `Authorization: Bearer <access token>` or the access cookie (`__Host-latchkey.at`,
/// or `latchkey.at` on http://localhost). Documented as two alternative security schemes.
pub struct Caller(pub Principal);

impl<'a> ApiExtractor<'a> for Caller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            "BearerAuth",
            MetaSecurityScheme {
                ty: "http",
                description: Some("The access token returned by register, sign-in and refresh."),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: Some("JWT"),
                flows: None,
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            "CookieAuth",
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "The access cookie set with `X-Latchkey-Transport: cookie` (named \
                     `latchkey.at` when the server runs on http://localhost). State-changing \
                     requests authenticated this way must come from a trusted `Origin` \
                     (or carry `Sec-Fetch-Site: same-origin`), else 403 `csrf_rejected`.",
                ),
                name: Some("__Host-latchkey.at"),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["BearerAuth", "CookieAuth"]
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let MaybeCaller(result) = MaybeCaller::from_request(req, body, opts).await?;
        result.map(Caller).map_err(|e| ApiError(e).into())
    }
}

/// Like [`Caller`], but the handler gets the refusal instead of an automatic 401: for
/// sign-out, which can still identify the session by its refresh cookie when the access
/// token has expired. Documented as the same schemes, plus "none".
pub struct MaybeCaller(pub Result<Principal, Error>);

impl<'a> ApiExtractor<'a> for MaybeCaller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        Caller::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        Caller::security_schemes()
    }

    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let state = req
            .data::<Arc<AppState>>()
            .ok_or(ApiError(Error::Internal))?;
        Ok(MaybeCaller(authenticate_request(state, req).await))
    }
}

/// The caller a request names by its bearer token or access cookie (the cookie under the
/// CSRF rule).
pub async fn authenticate_request(state: &AppState, req: &Request) -> Result<Principal, Error> {
    let authorization = req.headers().get_all(header::AUTHORIZATION);
    if let Some(token) = bearer::from_headers(authorization.iter().map(|v| v.to_str().ok()))? {
        return authenticate(state, token, false).await;
    }
    let cookies = cookie_header(req);
    let token = state
        .cookies
        .read(&cookies, CookieKind::Access)?
        .ok_or(Error::MissingToken)?;
    check_csrf(state, req)?;
    authenticate(state, token, true).await
}

/// Verifies `token` and checks that its session is live.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    by_cookie: bool,
) -> Result<Principal, Error> {
    let now_ms = state.clock.now_ms();
    let claims = state.tokens.verify(token, state.clock.now_secs())?;
    let live = match state.liveness.get(&claims.sid, &claims.sub, now_ms) {
        Some(live) => live,
        None => {
            let ticket = state.liveness.ticket();
            let expiry = state
                .store
                .sessions
                .live_session_expiry(&claims.sid, &claims.sub, now_ms)
                .await
                .map_err(Error::from)?;
            state
                .liveness
                .put(ticket, &claims.sid, &claims.sub, now_ms, expiry);
            expiry.is_some()
        }
    };
    if !live {
        return Err(Error::SessionRevoked);
    }
    Ok(Principal {
        user_id: claims.sub.clone(),
        session_id: claims.sid.clone(),
        claims,
        by_cookie,
    })
}

/// The CSRF rule for a request that relies on cookies (see [`csrf::check`]). `Origin` or
/// `Sec-Fetch-Site` sent twice is refused on a state change: reading the first (or the
/// last) would let whoever added the other one choose the answer.
pub fn check_csrf(state: &AppState, req: &Request) -> Result<(), Error> {
    let text = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let twice = |name: &str| req.headers().get_all(name).iter().nth(1).is_some();
    let method = req.method().as_str();
    let result = if csrf::is_state_changing(method) && (twice("origin") || twice("sec-fetch-site"))
    {
        Err(Error::CsrfRejected)
    } else {
        csrf::check(
            method,
            text("origin"),
            text("sec-fetch-site"),
            &state.trusted_origins,
        )
    };
    if result.is_err() {
        tracing::info!(origin = ?text("origin"), "cookie request refused: untrusted origin");
    }
    result
}

/// Every `Cookie` header, joined (HTTP/2 may split cookies across several).
pub fn cookie_header(req: &Request) -> String {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The client's address and user agent, for the session list, the audit trail and rate
/// limits. The address is the one a valid bridge attestation names; without one, the TCP
/// peer, unless the peer is one of LATCHKEY_TRUSTED_PROXIES: then it is the right-most
/// untrusted hop of `Forwarded` / `X-Forwarded-For` (see `latchkey_core::client_ip`), so a
/// client cannot choose its own address.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub addr: Option<IpAddr>,
}

impl ClientInfo {
    /// The longest user agent kept; real ones are a few hundred characters.
    const MAX_USER_AGENT: usize = 512;

    pub fn of(req: &Request) -> Self {
        let addr = client_addr(req);
        let ip = addr.map(|addr| addr.to_string());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| {
                ua.chars()
                    .filter(|c| !c.is_control())
                    .take(Self::MAX_USER_AGENT)
                    .collect::<String>()
            })
            .filter(|ua| !ua.is_empty());
        ClientInfo {
            ip,
            user_agent,
            addr,
        }
    }

    /// The rate-limit key of the client's address (IPv6 grouped by /64).
    pub fn bucket(&self) -> String {
        bucket_of(self.addr)
    }
}

/// The rate-limit key of an address (IPv6 grouped by /64).
pub fn bucket_of(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".to_owned(), client_ip::bucket)
}

/// The client's address: the one the Next.js bridge vouches for (`Latchkey-Client-Address`,
/// see `latchkey_core::bridge`), else the TCP peer, or the forwarded client when the peer is
/// trusted.
pub fn client_addr(req: &Request) -> Option<IpAddr> {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip().to_canonical())?;
    let Some(state) = req.data::<Arc<AppState>>() else {
        return Some(peer);
    };
    if let Some(attested) = attested_addr(state, req) {
        return Some(attested);
    }
    // Only the header the proxy writes: the other one is whatever the client sent.
    let (forwarded_for, forwarded) = match state.forwarded_header {
        ForwardedHeader::XForwardedFor => (header_values(req, "x-forwarded-for"), Vec::new()),
        ForwardedHeader::Forwarded => (Vec::new(), header_values(req, "forwarded")),
    };
    Some(client_ip::resolve(
        peer,
        &forwarded_for,
        &forwarded,
        &state.trusted_proxies,
    ))
}

/// The address in a valid bridge attestation. A missing one is the usual case (a client that
/// talks to the server directly); a bad one is ignored, so the rules above apply as if it were
/// absent, and noted without its value (only the bridge and the server can write a valid one,
/// so a bad one is a forgery, a replay or two clocks apart).
fn attested_addr(state: &AppState, req: &Request) -> Option<IpAddr> {
    let mut values = req.headers().get_all(bridge::HEADER).iter();
    let first = values.next()?;
    let refusal = match (first.to_str(), values.next()) {
        (Ok(value), None) => {
            match bridge::verify(&state.bridge_key, value, state.clock.now_secs()) {
                Ok(ip) => return Some(ip),
                Err(refusal) => refusal,
            }
        }
        // Sent twice, or not text: whichever copy we read, someone else chose the other.
        _ => bridge::Refusal::Malformed,
    };
    tracing::debug!(reason = %refusal, "ignored a Latchkey-Client-Address attestation");
    None
}

/// Every value of a header, in order (a header may be sent several times).
fn header_values<'a>(req: &'a Request, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}
