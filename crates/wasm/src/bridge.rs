//! The client address the bridge vouches for to the server (`Latchkey-Client-Address`).

use latchkey_core::bridge::{self, BridgeKey};
use latchkey_core::{Error, Secret};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Signs the client's address for the server, under a key drawn from the shared
/// `LATCHKEY_SECRET`, the way the server checks it.
#[wasm_bindgen]
pub struct ClientAttestor {
    key: BridgeKey,
}

#[wasm_bindgen]
impl ClientAttestor {
    /// An attestor under the server's `LATCHKEY_SECRET`. Throws a `LatchkeyError`
    /// (`weak_secret`) if the secret is shorter than 32 bytes.
    pub fn new(secret: &str) -> Result<ClientAttestor, JsValue> {
        let secret = Secret::parse(secret.as_bytes()).map_err(|e| out::thrown(&e))?;
        Ok(ClientAttestor {
            key: BridgeKey::new(&secret),
        })
    }

    /// The `Latchkey-Client-Address` value for `address` (an IPv4 or IPv6 address, with or
    /// without a port or brackets) at `now` (Unix seconds; default: the current time):
    /// `{ ok: true, header }`, or `{ ok: false, error }` (`invalid_request`) when `address`
    /// is not an address.
    #[wasm_bindgen(unchecked_return_type = "AttestResult")]
    pub fn attest(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] address: JsValue,
        now: Option<f64>,
    ) -> JsValue {
        #[derive(Serialize)]
        struct Attested {
            header: String,
        }
        let answer = (|| {
            let ip = out::opt_string(&address)
                .and_then(|a| latchkey_core::client_ip::parse_address(&a))
                .ok_or_else(|| Error::InvalidRequest("not an IP address".into()))?;
            let now = out::seconds(now)?;
            Ok(Attested {
                header: bridge::attest(&self.key, ip, now),
            })
        })();
        out::result(answer)
    }

    /// The address an attestation vouches for, checked as the server checks it (for tests):
    /// `{ ok: true, address }` or `{ ok: false, error }` (`invalid_request`).
    #[wasm_bindgen(unchecked_return_type = "AddressResult")]
    pub fn verify(&self, header: &str, now: Option<f64>) -> JsValue {
        #[derive(Serialize)]
        struct Verified {
            address: String,
        }
        let answer = out::seconds(now).and_then(|now| {
            bridge::verify(&self.key, header, now)
                .map(|ip| Verified {
                    address: ip.to_string(),
                })
                .map_err(|refusal| Error::InvalidRequest(format!("attestation {refusal}")))
        });
        out::result(answer)
    }
}

/// The client's address from the values of a header a trusted proxy in front of the app
/// writes: the `trustedHops`-th entry from the right (1: the right-most), as text; `undefined`
/// when the header is too short for that or the entry is not an address.
#[wasm_bindgen(js_name = clientFromHeader)]
pub fn client_from_header(
    #[wasm_bindgen(unchecked_param_type = "string | null")] value: JsValue,
    #[wasm_bindgen(js_name = trustedHops)] trusted_hops: u32,
) -> Option<String> {
    let value = out::opt_string(&value)?;
    let hops = usize::try_from(trusted_hops).ok()?;
    bridge::client_from_header(&[value.as_str()], hops).map(|ip| ip.to_string())
}
