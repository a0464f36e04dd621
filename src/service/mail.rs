//! Email (docs/architecture.md#applications, docs/configuration.md#smtp): the
//! "OAuth application added to your account" message, its templates (System →
//! Configuration, per language, English by default), and delivery. Every
//! message is written to the outbox first; with SMTP configured a background
//! task delivers it and records `sent` or `failed` with the reason. Creating an
//! application never waits for, or fails because of, email.

use super::now;
use crate::state::AppState;
use crate::store::{self, applications::ApplicationSummary};

pub const DEFAULT_SUBJECT: &str = "OAuth application added to your account";
pub const DEFAULT_BODY: &str = "Hello {{username}},

The OAuth application \"{{application_name}}\" was added to your account in the organization {{organization}}.

Client ID: {{client_id}}
Grant type: {{grant_type}}

The client secret is never sent by email. If you did not expect this application, tell your administrator.
";

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["username", "application_name", "client_id", "organization", "grant_type"];

/// The languages templates can be written in (English is the fallback).
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("uk", "Українська"),
];

pub fn is_language(code: &str) -> bool {
    LANGUAGES.iter().any(|(c, _)| *c == code)
}

pub const OVERRIDE_RECIPIENT_KEY: &str = "email.override_recipient";

pub fn subject_key(language: &str) -> String {
    format!("email.application_added.{language}.subject")
}

pub fn body_key(language: &str) -> String {
    format!("email.application_added.{language}.body")
}

/// One language's template as stored; empty parts fall back to English,
/// then to the built-in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// The template for `language`: its own text where set, else English's,
/// else the built-in one.
pub async fn template(state: &AppState, language: &str) -> Result<Template, sqlx::Error> {
    let mut subject = None;
    let mut body = None;
    for lang in [language, "en"] {
        if subject.is_none() {
            subject = store::settings::get(&state.db, &subject_key(lang)).await?;
        }
        if body.is_none() {
            body = store::settings::get(&state.db, &body_key(lang)).await?;
        }
    }
    Ok(Template {
        subject: subject.unwrap_or_else(|| DEFAULT_SUBJECT.into()),
        body: body.unwrap_or_else(|| DEFAULT_BODY.into()),
    })
}

/// Fills `{{name}}` placeholders; unknown ones are left as written. The
/// subject is kept to one line.
pub fn render(template: &Template, values: &[(&str, &str)]) -> (String, String) {
    let fill = |text: &str| {
        let mut out = text.to_owned();
        for (name, value) in values {
            out = out.replace(&format!("{{{{{name}}}}}"), value);
        }
        out
    };
    let subject = fill(&template.subject).replace(['\r', '\n'], " ");
    (subject.trim().to_owned(), fill(&template.body))
}

/// Checks a template a person wrote: the subject is one line of at most
/// 255 characters, the body at most 10,000, and only known placeholders.
pub fn validate_template(subject: &str, body: &str) -> Result<(), super::ServiceError> {
    use super::ServiceError;
    if subject.contains(['\r', '\n']) || subject.chars().count() > 255 {
        return Err(ServiceError::invalid("subject", "The subject must be one line of at most 255 characters."));
    }
    if body.chars().count() > 10_000 {
        return Err(ServiceError::invalid("body", "The body must be at most 10,000 characters."));
    }
    for (field, text) in [("subject", subject), ("body", body)] {
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let name = &after[..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(ServiceError::invalid(
                    field,
                    format!(
                        "Unknown placeholder {{{{{name}}}}}. Use: {}.",
                        PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            rest = &after[end + 2..];
        }
    }
    Ok(())
}

/// Writes the "application added" email for `app` to the outbox and, with
/// SMTP configured, sends it in the background. Never fails: problems are
/// logged and recorded on the message.
pub async fn application_added(state: &AppState, app: &ApplicationSummary) {
    if let Err(e) = queue_application_added(state, app).await {
        tracing::error!(error = %e, application_id = app.id, "could not write the application-added email to the outbox");
    }
}

async fn queue_application_added(state: &AppState, app: &ApplicationSummary) -> Result<(), sqlx::Error> {
    let override_recipient = store::settings::get(&state.db, OVERRIDE_RECIPIENT_KEY).await?;
    let Some(recipient) = override_recipient.or_else(|| app.owner_email.clone()) else {
        tracing::info!(application_id = app.id, "no owner and no override recipient: no email for this application");
        return Ok(());
    };
    let language = app.owner_language.as_deref().unwrap_or("en");
    let template = template(state, language).await?;
    let (subject, body) = render(
        &template,
        &[
            ("username", app.owner.as_deref().unwrap_or("")),
            ("application_name", &app.name),
            ("client_id", &app.client_id),
            ("organization", &app.organization),
            ("grant_type", app.grant_type.as_str()),
        ],
    );
    let mailer = state.mailer.clone();
    let status = if mailer.is_some() { "queued" } else { "stored" };
    let id = store::outbox::insert(&state.db, &recipient, &subject, &body, status, now()).await?;
    tracing::info!(email_id = id, status, "application-added email written to the outbox");
    if let Some(mailer) = mailer {
        let db = state.db.clone();
        tokio::spawn(async move {
            let result = mailer.send(&recipient, &subject, &body).await;
            let written = match &result {
                Ok(()) => store::outbox::mark_sent(&db, id, now()).await,
                Err(reason) => {
                    tracing::warn!(email_id = id, reason = %reason, "email delivery failed");
                    store::outbox::mark_failed(&db, id, reason).await
                }
            };
            if let Err(e) = written {
                tracing::error!(error = %e, email_id = id, "could not record the email's delivery");
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_placeholders_and_keeps_the_subject_on_one_line() {
        let template = Template {
            subject: "Added: {{application_name}}\r\nBcc: x@evil.example".into(),
            body: DEFAULT_BODY.into(),
        };
        let (subject, body) =
            render(&template, &[("application_name", "Billing"), ("client_id", "abc123"), ("username", "ann")]);
        assert_eq!(subject, "Added: Billing  Bcc: x@evil.example");
        assert!(body.contains("Client ID: abc123"));
        assert!(body.starts_with("Hello ann,"));
    }

    #[test]
    fn templates_may_use_only_known_placeholders() {
        assert!(validate_template("{{application_name}} added", "{{client_id}} {{username}}").is_ok());
        assert!(validate_template("", "{{ username }}").is_err(), "spaces inside braces would never be filled");
        assert!(validate_template("{{client_secret}}", "").is_err());
        assert!(validate_template("one\nline", "").is_err());
        assert!(validate_template(DEFAULT_SUBJECT, DEFAULT_BODY).is_ok());
    }
}
