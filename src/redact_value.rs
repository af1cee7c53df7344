//! Redacting every string inside a value about to be written to Kubernetes (a status, an
//! AccessFinding spec): the schema's keys stay, every string value passes `idgap_net::redact`.

use serde_json::Value;

/// How much to take out of each string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Registered secrets only: for org data (findings), where a field named like a
    /// credential is ordinary text.
    KnownSecrets,
    /// Registered secrets and credential-looking fields: for error and status text that may
    /// quote a server.
    ServerText,
}

/// `value` with every string redacted at `strength`.
pub fn redacted(value: Value, strength: Strength) -> Value {
    match value {
        Value::String(s) => Value::String(match strength {
            Strength::KnownSecrets => idgap_net::redact::redact(&s).into_owned(),
            Strength::ServerText => idgap_net::redact::server_text(&s),
        }),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redacted(v, strength)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, redacted(v, strength)))
                .collect(),
        ),
        other => other,
    }
}

/// `item` passed through JSON and [`redacted`]; unchanged if it does not round-trip.
pub fn redacted_as<T>(item: T, strength: Strength) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let Ok(value) = serde_json::to_value(&item) else {
        return item;
    };
    serde_json::from_value(redacted(value, strength)).unwrap_or(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_is_redacted_and_the_shape_kept() {
        let _ = idgap_net::SecretString::new("value-canary-secret");
        let status = serde_json::json!({
            "conditions": [{"type": "Ready", "message": "HTTP 400 (echo: value-canary-secret)"}],
            "skippedRules": [{"reason": "token endpoint said: refresh_token=unknown-value-9&x=1"}],
            "summary": {"total": 3},
        });
        let out = redacted(status.clone(), Strength::ServerText).to_string();
        assert!(!out.contains("value-canary-secret"), "{out}");
        assert!(!out.contains("unknown-value-9"), "{out}");
        assert!(out.contains(r#""total":3"#), "{out}");
        let known = redacted(status, Strength::KnownSecrets).to_string();
        assert!(!known.contains("value-canary-secret"), "{known}");
        assert!(known.contains("refresh_token=unknown-value-9"), "{known}");
    }
}
