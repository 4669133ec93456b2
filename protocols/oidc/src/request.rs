//! A form-encoded POST to the token, introspection or revocation endpoint.

/// The body's parameters and the `Authorization` header, as received.
/// Parameters without a value are treated as omitted (RFC 6749 §3.2).
#[derive(Debug, Clone, Default)]
pub struct FormRequest {
    params: Vec<(String, String)>,
    authorization: Option<String>,
}

impl FormRequest {
    pub fn new<K: Into<String>, V: Into<String>>(
        params: impl IntoIterator<Item = (K, V)>,
        authorization: Option<&str>,
    ) -> Self {
        let params = params.into_iter().map(|(k, v)| (k.into(), v.into())).filter(|(_, v)| !v.is_empty()).collect();
        Self { params, authorization: authorization.map(str::to_owned) }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The first parameter that appears more than once (RFC 6749 §3.2
    /// forbids it).
    pub fn repeated_parameter(&self) -> Option<&str> {
        let mut names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}
