use url::Url;

/// Which hosts idgap may call. By default only the vendors' own API hosts; anything else (a
/// simulator, a proxy, a sovereign cloud not listed here) must be allowed explicitly by whoever
/// runs idgap, so that a namespace user cannot point the operator at internal addresses.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    allowed: Vec<HostPattern>,
    /// Plain `http://` is refused unless the host is explicitly allowed (simulators on loopback).
    vendor_defaults: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    /// Lower-case host, or a suffix when it starts with `*.`.
    host: String,
    port: Option<u16>,
}

/// The vendors' API and login hosts. `*.` matches any subdomain.
pub const VENDOR_HOSTS: &[&str] = &[
    // Salesforce
    "login.salesforce.com",
    "test.salesforce.com",
    "*.my.salesforce.com",
    "*.salesforce.com",
    "*.force.com",
    // Okta
    "*.okta.com",
    "*.oktapreview.com",
    "*.okta-emea.com",
    "*.okta-gov.com",
    // Microsoft Entra ID / Graph (global and national clouds)
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "login.microsoftonline.us",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "login.chinacloudapi.cn",
    "microsoftgraph.chinacloudapi.cn",
    // Google Workspace
    "oauth2.googleapis.com",
    "admin.googleapis.com",
    // JumpCloud
    "console.jumpcloud.com",
    "console.eu.jumpcloud.com",
    // OneLogin
    "*.onelogin.com",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPolicyError {
    #[error("`{0}` is not a valid URL")]
    InvalidUrl(String),
    #[error(
        "host `{host}` is not on the outbound allow-list; idgap only calls the vendors' API hosts unless it is given --allow-host {host}"
    )]
    NotAllowed { host: String },
    #[error(
        "`{host}` uses plain http; only hosts allowed explicitly with --allow-host may be called without TLS"
    )]
    PlainHttp { host: String },
    #[error("`{0}` is not a valid --allow-host pattern (expected host, *.domain, or host:port)")]
    BadPattern(String),
    #[error(
        "host `{host}` is not a Salesforce host (*.salesforce.com, *.force.com) nor allowed with --allow-host"
    )]
    NotSalesforce { host: String },
}

impl Default for HostPolicy {
    fn default() -> Self {
        HostPolicy::vendors_only()
    }
}

impl HostPolicy {
    pub fn vendors_only() -> Self {
        HostPolicy {
            allowed: Vec::new(),
            vendor_defaults: true,
        }
    }

    /// Adds explicit patterns: `host`, `*.domain`, `host:port`, `127.0.0.1`.
    pub fn allow<I, S>(mut self, patterns: I) -> Result<Self, HostPolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for p in patterns {
            self.allowed.push(HostPattern::parse(p.as_ref())?);
        }
        Ok(self)
    }

    pub fn explicit_patterns(&self) -> Vec<String> {
        self.allowed
            .iter()
            .map(|p| match p.port {
                Some(port) => format!("{}:{port}", p.host),
                None => p.host.clone(),
            })
            .collect()
    }

    /// One warning per explicit pattern that allows a whole top-level domain (`*.com`,
    /// `*.co.uk`): legal, since some setups need it, but almost certainly a mistake, because it
    /// lets a namespace user send the operator, and its credentials, to nearly any host.
    pub fn broad_pattern_warnings(&self) -> Vec<String> {
        self.allowed
            .iter()
            .filter(|p| p.host.strip_prefix("*.").is_some_and(is_public_suffix_like))
            .map(|p| {
                format!(
                    "--allow-host {} allows every host under .{}; idgap may then call (and send credentials to) any of them. Name the hosts, or a domain you control, instead",
                    p.host,
                    p.host.trim_start_matches("*.")
                )
            })
            .collect()
    }

    /// Parses `url` and checks it may be called.
    pub fn check(&self, url: &str) -> Result<Url, HostPolicyError> {
        let parsed = Url::parse(url).map_err(|_| HostPolicyError::InvalidUrl(short(url)))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| HostPolicyError::InvalidUrl(short(url)))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = parsed.port_or_known_default();
        let explicit = self.allowed.iter().any(|p| p.matches(&host, port));
        if explicit {
            return Ok(parsed);
        }
        let vendor = self.vendor_defaults && VENDOR_HOSTS.iter().any(|v| host_matches(v, &host));
        if !vendor {
            return Err(HostPolicyError::NotAllowed { host });
        }
        if parsed.scheme() != "https" {
            return Err(HostPolicyError::PlainHttp { host });
        }
        Ok(parsed)
    }

    /// Like [`HostPolicy::check`], but of the vendors only Salesforce's own domains pass: for a
    /// URL a Salesforce server hands back (a token response's `instance_url`), which must not
    /// send idgap, or a printed manifest, to another vendor's host. Explicit patterns pass.
    pub fn check_salesforce(&self, url: &str) -> Result<Url, HostPolicyError> {
        let parsed = self.check(url)?;
        // Without brackets, as `check` and the patterns hold an IPv6 address.
        let host = parsed
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = parsed.port_or_known_default();
        let explicit = self.allowed.iter().any(|p| p.matches(&host, port));
        if explicit || SALESFORCE_DOMAINS.iter().any(|d| host_matches(d, &host)) {
            Ok(parsed)
        } else {
            Err(HostPolicyError::NotSalesforce { host })
        }
    }
}

/// Why a Salesforce-given instance URL was refused by [`HostPolicy::check_instance_url`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceUrlError {
    #[error("it contains whitespace or control characters")]
    Unprintable,
    #[error(transparent)]
    Policy(#[from] HostPolicyError),
    #[error("an instance URL is only a scheme and a host, e.g. https://acme.my.salesforce.com")]
    NotAnOrigin,
    #[error("its host is not a DNS name (letters, digits, hyphens and dots) or an IP address")]
    NotAHostName,
}

impl HostPolicy {
    /// A token response's `instance_url` as the origin to store: exactly
    /// `https://<Salesforce host>[:port]` (or an explicitly allowed test host), since it is
    /// written into a Secret manifest and called by every later sync. A value with a path,
    /// query, credentials, whitespace or control characters is refused as a whole.
    pub fn check_instance_url(&self, raw: &str) -> Result<String, InstanceUrlError> {
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(InstanceUrlError::Unprintable);
        }
        let url = self.check_salesforce(raw)?;
        let origin = url.origin().ascii_serialization();
        let plain = url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.path() == "/"
            && raw.trim_end_matches('/') == origin;
        if !plain {
            return Err(InstanceUrlError::NotAnOrigin);
        }
        // A URL host may hold `~`, `'`, `{`, `_` and more; no Salesforce host does.
        let dns_name = |d: &str| {
            d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        if !matches!(url.host(), Some(url::Host::Domain(d)) if dns_name(d))
            && !matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)))
        {
            return Err(InstanceUrlError::NotAHostName);
        }
        Ok(origin)
    }
}

/// The domains every Salesforce login, My Domain and instance host is under.
const SALESFORCE_DOMAINS: [&str; 2] = ["*.salesforce.com", "*.force.com"];

impl HostPattern {
    fn parse(raw: &str) -> Result<Self, HostPolicyError> {
        let raw = raw.trim().to_ascii_lowercase();
        let bad = || HostPolicyError::BadPattern(raw.clone());
        if raw.is_empty() || raw.contains('/') {
            return Err(bad());
        }
        let (host, port) = match raw.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
                (h.to_string(), Some(p.parse::<u16>().map_err(|_| bad())?))
            }
            _ => (raw.clone(), None),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() || host == "*" || host == "*." {
            return Err(bad());
        }
        Ok(HostPattern { host, port })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        host_matches(&self.host, host) && self.port.is_none_or(|p| Some(p) == port)
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// A bare top-level domain (`com`, `io`), or a country's second level (`co.uk`, `com.au`).
fn is_public_suffix_like(suffix: &str) -> bool {
    match suffix.split('.').collect::<Vec<_>>()[..] {
        [_] => true,
        [second, country] => {
            country.len() == 2
                && matches!(
                    second,
                    "co" | "com" | "net" | "org" | "gov" | "edu" | "ac" | "ne" | "or" | "go"
                )
        }
        _ => false,
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (found by the `net_instance_url` fuzz target): a URL host may contain
    /// characters no DNS name has (`https://acme.light~ing.force.com:8443` was accepted and
    /// would have been written into the Secret); only DNS names and IP addresses pass.
    #[test]
    fn instance_url_hosts_are_dns_names() {
        let p = HostPolicy::vendors_only()
            .allow(["127.0.0.1:4000", "[::1]:4000"])
            .unwrap();
        for bad in [
            "https://acme.light~ing.force.com:8443",
            "https://a'b.my.salesforce.com",
            "https://a{b}.my.salesforce.com",
            "https://a_b.my.salesforce.com",
        ] {
            assert_eq!(
                p.check_instance_url(bad),
                Err(InstanceUrlError::NotAHostName),
                "{bad}"
            );
        }
        for good in [
            "https://acme.lightning.force.com:8443",
            "https://acme--dev.sandbox.my.salesforce.com/",
            "http://127.0.0.1:4000",
            "http://[::1]:4000",
        ] {
            assert_eq!(
                p.check_instance_url(good).as_deref(),
                Ok(good.trim_end_matches('/')),
                "{good}"
            );
        }
        assert_eq!(
            p.check_instance_url("https://acme.my.salesforce.com\nkind: X"),
            Err(InstanceUrlError::Unprintable)
        );
    }

    #[test]
    fn vendor_hosts_need_tls() {
        let p = HostPolicy::vendors_only();
        assert!(
            p.check("https://acme.my.salesforce.com/services/data")
                .is_ok()
        );
        assert!(p.check("https://acme.okta.com/api/v1/users").is_ok());
        assert_eq!(
            p.check("http://acme.okta.com/api/v1/users").unwrap_err(),
            HostPolicyError::PlainHttp {
                host: "acme.okta.com".into()
            }
        );
    }

    #[test]
    fn other_hosts_are_refused_until_allowed() {
        let p = HostPolicy::vendors_only();
        assert!(matches!(
            p.check("http://127.0.0.1:8080/x"),
            Err(HostPolicyError::NotAllowed { .. })
        ));
        assert!(matches!(
            p.check("https://okta.com.evil.example/x"),
            Err(HostPolicyError::NotAllowed { .. })
        ));
        let p = p.allow(["127.0.0.1:8080", "*.corp.example"]).unwrap();
        assert!(p.check("http://127.0.0.1:8080/x").is_ok());
        assert!(p.check("http://127.0.0.1:9090/x").is_err());
        assert!(p.check("https://idp.corp.example/x").is_ok());
        assert!(p.check("https://corp.example/x").is_err());
    }

    #[test]
    fn salesforce_urls_stay_on_salesforce() {
        let p = HostPolicy::vendors_only();
        assert!(p.check_salesforce("https://acme.my.salesforce.com").is_ok());
        assert!(
            p.check_salesforce("https://acme--dev.sandbox.my.salesforce.com")
                .is_ok()
        );
        assert!(
            p.check_salesforce("https://acme.lightning.force.com")
                .is_ok()
        );
        assert_eq!(
            p.check_salesforce("https://acme.okta.com").unwrap_err(),
            HostPolicyError::NotSalesforce {
                host: "acme.okta.com".into()
            }
        );
        assert!(
            p.check_salesforce("https://salesforce.com.evil.example")
                .is_err()
        );
        let p = p.allow(["127.0.0.1"]).unwrap();
        assert!(p.check_salesforce("http://127.0.0.1:4000").is_ok());
    }

    #[test]
    fn patterns_over_a_whole_top_level_domain_are_warned_about() {
        let p = HostPolicy::vendors_only()
            .allow([
                "*.com",
                "*.co.uk",
                "*.corp.example",
                "127.0.0.1",
                "*.acme.com",
            ])
            .unwrap();
        let warnings = p.broad_pattern_warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("--allow-host *.com allows every host under .com;"));
        assert!(warnings[1].starts_with("--allow-host *.co.uk allows every host under .co.uk;"));
        assert!(
            HostPolicy::vendors_only()
                .broad_pattern_warnings()
                .is_empty()
        );
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for bad in ["", "*", "http://x", "host:notaport"] {
            assert!(HostPolicy::vendors_only().allow([bad]).is_err(), "{bad}");
        }
    }
}
