//! SMTP delivery (docs/configuration.md#smtp): one transport built from the
//! configuration, sending plain-text messages. What is sent, and the outbox
//! every message goes through first, are `service::mail`'s.

use crate::config::{SmtpConfig, SmtpTls};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// An SMTP connection's settings, ready to send.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `None` when no SMTP host is configured.
    pub fn from_config(config: &SmtpConfig) -> Result<Option<Mailer>, String> {
        if config.host.is_empty() {
            return Ok(None);
        }
        let from: Mailbox =
            config.from.parse().map_err(|e| format!("smtp.from {:?} is not an address: {e}", config.from))?;
        let builder = match config.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)),
        }
        .map_err(|e| format!("smtp.host {:?}: {e}", config.host))?;
        let mut builder = builder.port(config.port).timeout(Some(Duration::from_secs(config.timeout.max(1))));
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(config.username.clone(), config.password.clone()));
        }
        Ok(Some(Mailer { transport: builder.build(), from }))
    }

    /// Sends one plain-text message; the error says why, for the outbox.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("the recipient {to:?} is not an address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("the message could not be built: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
    }
}
