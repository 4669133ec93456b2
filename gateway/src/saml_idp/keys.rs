//! The app's signing key: opened from the vault and parsed once per kid,
//! then served from `caches.saml_keys`. A rotation makes a new kid, so a
//! cached key never goes stale; it is only ever unused.

use std::sync::Arc;

use saml::SigningKey;

use crate::apps::keys::AppKey;
use crate::apps::AppInstance;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the app has no signing key")]
    NoKey,
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the signing key does not open with this master key")]
    Sealed,
    #[error("the signing key does not parse: {0}")]
    Parse(#[from] saml::SamlError),
}

/// The key the app signs with now (`credentials.signing.kid`, else its
/// oldest active key: see `apps::keys::kid_in_use`).
pub async fn signing_key(state: &AppState, app: &AppInstance) -> Result<Arc<SigningKey>, KeyError> {
    if let Some(kid) = app.signing_kid() {
        if let Some(found) = state.caches.saml_keys.get(kid).await {
            state.metrics.cache_lookup("saml_keys", true);
            return Ok(found);
        }
    }
    state.metrics.cache_lookup("saml_keys", false);
    let keys = state.store.app_keys(&app.id).await?;
    let stored = crate::apps::keys::kid_in_use(&keys, app.signing_kid()).ok_or(KeyError::NoKey)?;
    let parsed = Arc::new(open(state, stored)?);
    state.caches.saml_keys.insert(stored.kid.clone(), parsed.clone()).await;
    Ok(parsed)
}

/// Opens the sealed private key and checks it against its certificate.
fn open(state: &AppState, key: &AppKey) -> Result<SigningKey, KeyError> {
    let pem = state.vault.open(&format!("app_keys/{}", key.kid), &key.sealed_private_key).map_err(|_| KeyError::Sealed)?;
    let pem = vestibule_core::Secret::new(String::from_utf8(pem).map_err(|_| KeyError::Sealed)?);
    Ok(SigningKey::from_pem(pem.expose().as_bytes(), key.certificate_pem.as_bytes())?)
}

/// The certificates metadata publishes, the one in use first, then the
/// others in creation order: a generated key is published before it signs
/// (so an SP that reads metadata trusts it before the switch), and the
/// previous key stays published until it is deleted (so an SP that has not
/// re-read metadata since keeps working).
pub async fn published_certificates(state: &AppState, app: &AppInstance) -> Result<Vec<String>, KeyError> {
    let keys = state.store.app_keys(&app.id).await?;
    let in_use = crate::apps::keys::kid_in_use(&keys, app.signing_kid()).map(|k| k.kid.clone());
    let mut ordered: Vec<&AppKey> = keys.iter().filter(|k| Some(&k.kid) == in_use.as_ref()).collect();
    ordered.extend(keys.iter().filter(|k| Some(&k.kid) != in_use.as_ref() && k.status == "ACTIVE"));
    let mut certificates = Vec::new();
    for key in ordered {
        if let Ok(certificate) = openssl::x509::X509::from_pem(key.certificate_pem.as_bytes()) {
            if let Ok(der) = certificate.to_der() {
                use base64::Engine as _;
                certificates.push(base64::engine::general_purpose::STANDARD.encode(der));
            }
        }
    }
    if certificates.is_empty() {
        return Err(KeyError::NoKey);
    }
    Ok(certificates)
}
