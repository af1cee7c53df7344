use std::fmt;

/// A credential value. `Debug` and `Display` print a placeholder, so a secret cannot reach a
/// log line, an event or an error message by accident; [`SecretString::expose`] is the one
/// way to read it, at the point where it goes on the wire.
///
/// Constructing one registers its value with [`crate::redact`], so a server that echoes it
/// back cannot make idgap print it either.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register(&value);
        SecretString(value)
    }

    /// A value from a Secret's data that is not known to be a credential yet (a Secret also
    /// holds client ids and usernames, which must stay readable in findings). Whoever reads
    /// it as a credential calls [`SecretString::registered`].
    pub fn unregistered(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// Registers the value for redaction (see [`crate::redact`]) and returns it.
    pub fn registered(self) -> Self {
        crate::redact::register(&self.0);
        self
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString::new(s)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = SecretString::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn constructing_registers_for_redaction_unless_unregistered() {
        let _ = SecretString::new("constructed-secret-1");
        let held = SecretString::unregistered("held-client-id-1");
        assert_eq!(crate::redact::redact("constructed-secret-1"), "<redacted>");
        assert_eq!(
            crate::redact::redact("held-client-id-1"),
            "held-client-id-1"
        );
        let _ = held.registered();
        assert_eq!(crate::redact::redact("held-client-id-1"), "<redacted>");
    }
}
