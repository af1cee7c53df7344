use std::collections::BTreeMap;

use idgap_net::SecretString;

use super::ResolveError;
use crate::resources::SecretKeyRef;

/// Where Secret values come from: the operator reads them from the API server, the CLI from
/// the manifests on disk. Lookups are synchronous: callers fetch what
/// `*_secret_refs` lists first.
pub trait SecretSource {
    /// `Ok(None)` when the Secret exists but has no such key.
    fn lookup(&self, secret: &str, key: &str) -> Result<Option<SecretString>, SecretMissing>;

    /// The namespace the Secrets are read from, for messages.
    fn namespace(&self) -> &str;
}

/// The Secret itself does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMissing;

/// Secret values held in memory, keyed by Secret name then key.
#[derive(Debug, Clone, Default)]
pub struct SecretMap {
    namespace: String,
    secrets: BTreeMap<String, BTreeMap<String, SecretString>>,
}

impl SecretMap {
    pub fn new(namespace: impl Into<String>) -> Self {
        SecretMap {
            namespace: namespace.into(),
            secrets: BTreeMap::new(),
        }
    }

    /// Records that a Secret exists (possibly with no keys).
    pub fn add_secret(&mut self, name: &str) -> &mut Self {
        self.secrets.entry(name.to_string()).or_default();
        self
    }

    pub fn insert(&mut self, secret: &str, key: &str, value: impl Into<SecretString>) -> &mut Self {
        self.secrets
            .entry(secret.to_string())
            .or_default()
            .insert(key.to_string(), value.into());
        self
    }

    pub fn contains_secret(&self, name: &str) -> bool {
        self.secrets.contains_key(name)
    }
}

impl SecretSource for SecretMap {
    fn lookup(&self, secret: &str, key: &str) -> Result<Option<SecretString>, SecretMissing> {
        let keys = self.secrets.get(secret).ok_or(SecretMissing)?;
        Ok(keys.get(key).cloned())
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }
}

/// Reads one referenced credential, with the field path in every error. The value is
/// registered for redaction (`idgap_net::redact`): from here on no output can print it.
pub(super) fn read(
    secrets: &dyn SecretSource,
    object_namespace: &str,
    field: &str,
    r: &SecretKeyRef,
) -> Result<SecretString, ResolveError> {
    read_value(secrets, object_namespace, field, r).map(SecretString::registered)
}

fn read_value(
    secrets: &dyn SecretSource,
    object_namespace: &str,
    field: &str,
    r: &SecretKeyRef,
) -> Result<SecretString, ResolveError> {
    if let Some(ns) = r.namespace.as_deref().filter(|ns| !ns.is_empty())
        && ns != object_namespace
    {
        return Err(ResolveError::CrossNamespace {
            field: field.to_string(),
            referenced: ns.to_string(),
            namespace: object_namespace.to_string(),
        });
    }
    match secrets.lookup(&r.name, &r.key) {
        Err(SecretMissing) => Err(ResolveError::SecretNotFound {
            field: field.to_string(),
            secret: r.name.clone(),
            namespace: secrets.namespace().to_string(),
        }),
        Ok(None) => Err(ResolveError::KeyNotFound {
            field: field.to_string(),
            secret: r.name.clone(),
            key: r.key.clone(),
        }),
        Ok(Some(v)) if v.is_empty() => Err(ResolveError::EmptyValue {
            field: field.to_string(),
            secret: r.name.clone(),
            key: r.key.clone(),
        }),
        Ok(Some(v)) => Ok(without_final_newline(v)),
    }
}

/// A one-line value loses one trailing `\n` or `\r\n`. `echo token | base64` (or a file
/// saved by an editor) adds one, and a credential with a stray newline fails far from its
/// cause ("failed to parse header value", "check the client secret"). No one-line credential
/// ends in a newline; a multi-line value (a PEM key) is left exactly as stored.
pub(super) fn without_final_newline(value: SecretString) -> SecretString {
    let text = value.expose();
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if body.len() == text.len() || body.contains('\n') {
        value
    } else {
        SecretString::new(body)
    }
}

/// Reads a non-secret identifier (a client id) kept in a Secret, trimmed; not redacted.
pub(super) fn read_plain(
    secrets: &dyn SecretSource,
    object_namespace: &str,
    field: &str,
    r: &SecretKeyRef,
) -> Result<String, ResolveError> {
    read_value(secrets, object_namespace, field, r).map(|v| v.expose().trim().to_string())
}
