//! HTTPS: the certificate chain and private key the emulator serves TLS with (`--cert`,
//! `--key`, PEM files as Azurite takes them), read and checked once at start with rustls.
//!
//! Both files come from outside: each is read whole but at most [`MAX_PEM`] bytes, must hold
//! what its flag names, and the key must be the one the first certificate was issued for. Any
//! refusal is one line naming the flag, the file and the problem, before anything listens.

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The largest PEM file read: 1 MiB (a certificate chain is a few KiB).
pub const MAX_PEM: u64 = 1 << 20;

/// Reads `--cert` and `--key` and builds the TLS side of the server (TLS 1.2 and 1.3, ALPN
/// `http/1.1`, rustls with the `ring` provider).
///
/// # Errors
/// One line naming the flag and file: it cannot be read, is larger than [`MAX_PEM`], holds no
/// PEM certificate (`--cert`) or private key (`--key`), or the key does not match the
/// certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let at = |flag: &str, path: &Path, problem: String| format!("{flag} {}: {problem}", path.display());
    let chain_pem = read_bounded(cert).map_err(|e| at("--cert", cert, e))?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at("--cert", cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(at(
            "--cert",
            cert,
            "no certificate in it (a PEM file with `-----BEGIN CERTIFICATE-----` blocks)".into(),
        ));
    }
    let key_pem = read_bounded(key).map_err(|e| at("--key", key, e))?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => at(
            "--key",
            key,
            "no private key in it (a PEM file with a `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block)"
                .into(),
        ),
        other => at("--key", key, format!("not a PEM private key: {other}")),
    })?;
    // rustls 0.23.48 deprecates its *ring* provider for lacking post-quantum key exchange, which
    // guards recorded traffic against future decryption; the emulator serves loopback test
    // traffic, and *ring* builds from crates.io alone (aws-lc-rs builds a C library).
    #[expect(deprecated, reason = "ring: no post-quantum key exchange, none needed on loopback")]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => at(
                "--key",
                key,
                format!("not the private key of the certificate in --cert {}", cert.display()),
            ),
            other => at("--key", key, format!("cannot be used with --cert {}: {other}", cert.display())),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A file's bytes, at most [`MAX_PEM`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_PEM {
        return Err(format!("larger than {MAX_PEM} bytes (1 MiB): not a PEM certificate or key"));
    }
    Ok(bytes)
}
