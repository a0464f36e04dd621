//! System → Configuration (the "application added" email's templates per
//! language and the override recipient) and System → Email Outbox.
//! Administrators only.

use super::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailConfiguration {
    pub language: String,
    /// (code, name)
    pub languages: Vec<(String, String)>,
    /// This language's own text; empty when it falls back to English or the built-in text.
    pub subject: String,
    pub body: String,
    /// What is used when this language's fields are empty.
    pub fallback_subject: String,
    pub fallback_body: String,
    pub override_recipient: String,
    pub placeholders: Vec<String>,
    /// How email leaves the server, for people to read.
    pub delivery: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailConfigurationForm {
    pub csrf_token: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub override_recipient: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPage {
    pub emails: Vec<OutboxEmail>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[server(prefix = "/admin/rpc", endpoint = "email_configuration")]
pub async fn get_email_configuration(language: String) -> Result<EmailConfiguration, AppError> {
    use super::guard;
    use crate::service::mail;
    use crate::store::settings;
    guard::actor().await?.require_installation_admin()?;
    let state = guard::state()?;
    let language = if mail::is_language(&language) { language } else { "en".to_owned() };
    let subject = settings::get(&state.db, &mail::subject_key(&language)).await?.unwrap_or_default();
    let body = settings::get(&state.db, &mail::body_key(&language)).await?.unwrap_or_default();
    // What applies when this language's own fields are empty: English's, then the built-in text.
    let (fallback_subject, fallback_body) = if language == "en" {
        (mail::DEFAULT_SUBJECT.to_owned(), mail::DEFAULT_BODY.to_owned())
    } else {
        let english = mail::template(&state, "en").await?;
        (english.subject, english.body)
    };
    let smtp = &state.config.smtp;
    let delivery = if state.mailer.is_some() {
        format!("SMTP: {}:{} ({:?}), from {}", smtp.host, smtp.port, smtp.tls, smtp.from)
    } else {
        "No SMTP server is configured: emails are kept in the Email Outbox. Set [smtp] in Leptos.toml or POSTERN_SMTP_HOST to send them.".to_owned()
    };
    Ok(EmailConfiguration {
        language,
        languages: mail::LANGUAGES.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect(),
        subject,
        body,
        fallback_subject,
        fallback_body,
        override_recipient: settings::get(&state.db, mail::OVERRIDE_RECIPIENT_KEY).await?.unwrap_or_default(),
        placeholders: mail::PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect(),
        delivery,
    })
}

#[server(prefix = "/admin/rpc", endpoint = "save_email_configuration", input = Json)]
pub async fn save_email_configuration(form: EmailConfigurationForm) -> Result<(), AppError> {
    use super::guard;
    use crate::service::{mail, now, users::validate_email};
    use crate::store::settings;
    guard::check_csrf(&form.csrf_token)?;
    let actor = guard::actor().await?;
    actor.require_installation_admin()?;
    let state = guard::state()?;
    if !mail::is_language(&form.language) {
        return Err(guard::invalid("language", "Choose one of the listed languages."));
    }
    let subject = form.subject.trim();
    mail::validate_template(subject, &form.body).map_err(guard::service_error)?;
    let recipient = form.override_recipient.trim();
    if !recipient.is_empty() {
        validate_email(recipient)
            .map_err(|_| guard::invalid("override_recipient", "This is not a valid email address."))?;
    }
    let now = now();
    let mut tx = state.db.write().await?;
    let before = settings::get(&mut tx, mail::OVERRIDE_RECIPIENT_KEY).await?.unwrap_or_default();
    settings::put(&mut tx, &mail::subject_key(&form.language), subject, now).await?;
    settings::put(&mut tx, &mail::body_key(&form.language), form.body.trim_end(), now).await?;
    settings::put(&mut tx, mail::OVERRIDE_RECIPIENT_KEY, recipient, now).await?;
    // The override recipient receives every owner's email: a change of it
    // is a change of who learns about new applications.
    let shown = |r: &str| if r.is_empty() { "none (each owner)".to_owned() } else { format!("\"{r}\"") };
    let detail = format!(
        "email template ({}) saved; override recipient {} → {}",
        form.language,
        shown(&before),
        shown(recipient)
    );
    let entry = crate::store::audit::NewEntry {
        detail: &detail,
        ..crate::service::audit::by(&actor, super::audit::AuditEvent::SettingsUpdated, now)
    };
    crate::service::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(actor = actor.user_id, language = %form.language, "email configuration saved");
    Ok(())
}

#[server(prefix = "/admin/rpc", endpoint = "outbox")]
pub async fn get_outbox(page: u32) -> Result<OutboxPage, AppError> {
    use super::guard;
    use crate::store::outbox;
    guard::actor().await?.require_installation_admin()?;
    let state = guard::state()?;
    let page_size = 25u32;
    let page = page.max(1);
    let total = outbox::count(&state.db).await?;
    let emails = outbox::list(&state.db, page_size as i64, (page as i64 - 1) * page_size as i64)
        .await?
        .into_iter()
        .map(|e| OutboxEmail {
            id: e.id,
            recipient: e.recipient,
            subject: e.subject,
            body: e.body,
            status: e.status,
            error: e.error,
            created_at: super::display_time(e.created_at),
            sent_at: e.sent_at.map(super::display_time),
        })
        .collect();
    Ok(OutboxPage { emails, total, page, page_size })
}
