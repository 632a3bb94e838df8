//! TLS to the server, as libpq's `sslmode` describes it: `prefer` (the
//! default) and `require` encrypt without checking who answers, `verify-ca`
//! and `verify-full` check the server's certificate against the Mozilla roots
//! and the target's `sslrootcert` file (both check the host name too: the
//! stricter reading). `require` with an `sslrootcert` verifies, as in libpq.
//! Built without the `tls` feature, a mode that needs TLS is refused.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Whether and how connections use TLS (libpq's `sslmode`; `allow` reads as `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never.
    Disable,
    /// If the server offers it, without checking its certificate.
    #[default]
    Prefer,
    /// Always, without checking the certificate (unless `ssl_root_cert` is set).
    Require,
    /// Always, and the certificate must chain to a trusted root (and name the host).
    VerifyCa,
    /// Always, and the certificate must chain to a trusted root and name the host.
    VerifyFull,
}

impl SslMode {
    /// Parses libpq's names.
    pub fn parse(text: &str) -> Result<SslMode> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "sslmode must be disable, allow, prefer, require, verify-ca or verify-full, \
                     got {text:?}"
                )));
            }
        })
    }

    fn driver_mode(self) -> postgres::config::SslMode {
        match self {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        }
    }
}

/// What opens the TLS session of each connection.
#[cfg(feature = "tls")]
pub(super) type Connector = tokio_postgres_rustls::MakeRustlsConnect;
/// Without the `tls` feature: plain connections only.
#[cfg(not(feature = "tls"))]
pub(super) type Connector = postgres::NoTls;

/// Sets `config`'s TLS mode and builds the connector for `mode` and `root_cert`.
pub(super) fn connector(
    config: &mut postgres::Config,
    mode: SslMode,
    root_cert: Option<&PathBuf>,
) -> Result<Connector> {
    config.ssl_mode(mode.driver_mode());
    build(mode, root_cert)
}

#[cfg(not(feature = "tls"))]
fn build(mode: SslMode, _root_cert: Option<&PathBuf>) -> Result<Connector> {
    if matches!(mode, SslMode::Disable | SslMode::Prefer) {
        Ok(postgres::NoTls)
    } else {
        Err(Error::InvalidArgument(format!(
            "sslmode {mode:?} needs TLS, and this build of asyncop has no `tls` feature"
        )))
    }
}

#[cfg(feature = "tls")]
fn build(mode: SslMode, root_cert: Option<&PathBuf>) -> Result<Connector> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use std::sync::Arc;

    // Our own provider, not the process default: another library in the same
    // process may have installed a different one, or none.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS set-up: {e}")))?;
    let verify = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
        || (mode == SslMode::Require && root_cert.is_some());
    let config = if verify {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = root_cert {
            let unreadable = |e: &dyn std::fmt::Display| {
                Error::InvalidArgument(format!("sslrootcert {}: {e}", path.display()))
            };
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))?;
            for cert in certs {
                let cert = cert.map_err(|e| unreadable(&e))?;
                roots.add(cert).map_err(|e| unreadable(&e))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(encrypt_only::EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// libpq's `prefer` and `require`: the session is encrypted and its handshake
/// signed by the certificate's key, but who holds the key is not checked.
#[cfg(feature = "tls")]
mod encrypt_only {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::sync::Arc;

    #[derive(Debug)]
    pub(super) struct EncryptOnly(pub(super) Arc<CryptoProvider>);

    impl ServerCertVerifier for EncryptOnly {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}
