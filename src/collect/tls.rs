//! The process's TLS crypto provider: rustls with ring, installed once before any HTTP client is
//! built — kvdiag's own ([`super::http::Http`]), azure_core's for token requests, and the GitHub
//! OIDC request. reqwest is built without a provider of its own (`rustls-no-provider`, so that
//! aws-lc-sys is not in the build) and panics when a client is built with none installed, so
//! every place that builds one calls [`init`] first.

use std::sync::Once;

/// Installs ring as the process-wide provider, once. A provider installed earlier (by a
/// program that embeds kvdiag's library) is kept.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_init_a_client_builds_and_ring_is_the_provider() {
        super::init();
        super::init();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        assert!(reqwest::Client::builder().build().is_ok());
    }
}
