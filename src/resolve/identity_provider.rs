use std::time::Duration;

use idgap_idp::{
    EntraAuth, EntraConfig, GoogleConfig, IdpConfig, JumpCloudConfig, OktaAuth, OktaConfig,
    OneLoginConfig,
};

use super::ResolveError;
use super::secrets::{SecretSource, read, read_plain};
use crate::resources::{IdentityProvider, IdentityProviderSpec, SecretKeyRef};

#[derive(Debug, Clone)]
pub struct IdentityProviderPlan {
    pub name: String,
    pub config: IdpConfig,
    pub interval: Duration,
}

/// Every Secret reference in the spec, with its field path.
pub fn identity_provider_secret_refs(spec: &IdentityProviderSpec) -> Vec<(String, SecretKeyRef)> {
    let mut refs = Vec::new();
    if let Some(o) = &spec.okta {
        if let Some(t) = &o.api_token {
            refs.push(("spec.okta.apiToken".into(), t.clone()));
        }
        if let Some(a) = &o.service_app {
            refs.push((
                "spec.okta.serviceApp.privateKey".into(),
                a.private_key.clone(),
            ));
        }
    }
    if let Some(e) = &spec.entra_id {
        if let Some(s) = &e.client_secret {
            refs.push(("spec.entraId.clientSecret".into(), s.clone()));
        }
        if let Some(c) = &e.certificate {
            refs.push((
                "spec.entraId.certificate.privateKey".into(),
                c.private_key.clone(),
            ));
        }
    }
    if let Some(g) = &spec.google_workspace {
        refs.push((
            "spec.googleWorkspace.serviceAccountKey".into(),
            g.service_account_key.clone(),
        ));
    }
    if let Some(j) = &spec.jump_cloud {
        refs.push(("spec.jumpCloud.apiKey".into(), j.api_key.clone()));
    }
    if let Some(o) = &spec.one_login {
        refs.push(("spec.oneLogin.clientId".into(), o.client_id.clone()));
        refs.push(("spec.oneLogin.clientSecret".into(), o.client_secret.clone()));
    }
    refs
}

pub fn resolve_identity_provider(
    obj: &IdentityProvider,
    secrets: &dyn SecretSource,
) -> Result<IdentityProviderPlan, ResolveError> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    let ns = obj
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let spec = &obj.spec;
    let interval = spec
        .interval
        .at_least_minimum()
        .map_err(|m| ResolveError::invalid("spec.interval", m))?;
    let blocks = [
        spec.okta.is_some(),
        spec.entra_id.is_some(),
        spec.google_workspace.is_some(),
        spec.jump_cloud.is_some(),
        spec.one_login.is_some(),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if blocks != 1 {
        return Err(ResolveError::invalid(
            "spec",
            "set exactly one of okta, entraId, googleWorkspace, jumpCloud, oneLogin",
        ));
    }
    let ns = ns.as_str();
    let config = if let Some(o) = &spec.okta {
        check_url("spec.okta.baseUrl", o.base_url.as_deref())?;
        let auth = match (&o.api_token, &o.service_app) {
            (Some(t), None) => OktaAuth::ApiToken(read(secrets, ns, "spec.okta.apiToken", t)?),
            (None, Some(a)) => OktaAuth::ServiceApp {
                client_id: a.client_id.trim().to_string(),
                private_key_pem: pem(
                    read(
                        secrets,
                        ns,
                        "spec.okta.serviceApp.privateKey",
                        &a.private_key,
                    )?,
                    "spec.okta.serviceApp.privateKey",
                )?,
                key_id: a.key_id.clone(),
                dpop: a.dpop,
            },
            _ => {
                return Err(ResolveError::invalid(
                    "spec.okta",
                    "set exactly one of apiToken or serviceApp",
                ));
            }
        };
        IdpConfig::Okta(OktaConfig {
            domain: o.domain.trim().to_string(),
            base_url: o.base_url.clone(),
            auth,
            page_size: 200,
        })
    } else if let Some(e) = &spec.entra_id {
        check_url("spec.entraId.loginBaseUrl", e.login_base_url.as_deref())?;
        check_url("spec.entraId.graphBaseUrl", e.graph_base_url.as_deref())?;
        let client_id = e.client_id.trim().to_string();
        let auth = match (&e.client_secret, &e.certificate) {
            (Some(s), None) => EntraAuth::ClientSecret {
                client_id,
                client_secret: read(secrets, ns, "spec.entraId.clientSecret", s)?,
            },
            (None, Some(c)) => EntraAuth::Certificate {
                client_id,
                private_key_pem: pem(
                    read(
                        secrets,
                        ns,
                        "spec.entraId.certificate.privateKey",
                        &c.private_key,
                    )?,
                    "spec.entraId.certificate.privateKey",
                )?,
                certificate_thumbprint: c.thumbprint.replace(':', "").to_ascii_uppercase(),
            },
            _ => {
                return Err(ResolveError::invalid(
                    "spec.entraId",
                    "set exactly one of clientSecret or certificate",
                ));
            }
        };
        IdpConfig::EntraId(EntraConfig {
            tenant_id: e.tenant_id.trim().to_string(),
            login_base_url: e.login_base_url.clone(),
            graph_base_url: e.graph_base_url.clone(),
            auth,
            page_size: 999,
        })
    } else if let Some(g) = &spec.google_workspace {
        check_url("spec.googleWorkspace.tokenUrl", g.token_url.as_deref())?;
        check_url("spec.googleWorkspace.apiBaseUrl", g.api_base_url.as_deref())?;
        let key = read(
            secrets,
            ns,
            "spec.googleWorkspace.serviceAccountKey",
            &g.service_account_key,
        )?;
        let mut config =
            GoogleConfig::from_service_account_json(&key, g.subject.trim()).map_err(|e| {
                ResolveError::invalid("spec.googleWorkspace.serviceAccountKey", e.to_string())
            })?;
        if g.customer.is_some() {
            config.customer = g.customer.clone();
        }
        config.domain = g.domain.clone();
        if g.token_url.is_some() {
            config.token_url = g.token_url.clone();
        }
        config.api_base_url = g.api_base_url.clone();
        IdpConfig::GoogleWorkspace(config)
    } else if let Some(j) = &spec.jump_cloud {
        check_url("spec.jumpCloud.baseUrl", j.base_url.as_deref())?;
        IdpConfig::JumpCloud(JumpCloudConfig {
            api_key: read(secrets, ns, "spec.jumpCloud.apiKey", &j.api_key)?,
            org_id: j.org_id.clone(),
            base_url: j.base_url.clone(),
            page_size: 100,
        })
    } else {
        let o = spec.one_login.as_ref().expect("one provider block is set");
        check_url("spec.oneLogin.baseUrl", o.base_url.as_deref())?;
        IdpConfig::OneLogin(OneLoginConfig {
            subdomain: o.subdomain.trim().to_string(),
            client_id: read_plain(secrets, ns, "spec.oneLogin.clientId", &o.client_id)?,
            client_secret: read(secrets, ns, "spec.oneLogin.clientSecret", &o.client_secret)?,
            base_url: o.base_url.clone(),
            page_size: 50,
        })
    };
    Ok(IdentityProviderPlan {
        name,
        config,
        interval,
    })
}

/// Endpoint overrides must be absolute http(s) URLs; whether the host may be called is the
/// outbound allow-list's decision at request time.
fn check_url(field: &str, value: Option<&str>) -> Result<(), ResolveError> {
    let Some(v) = value else { return Ok(()) };
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(ResolveError::invalid(
            field,
            format!("`{v}` is not an absolute https:// URL"),
        )),
    }
}

fn pem(v: idgap_net::SecretString, field: &str) -> Result<idgap_net::SecretString, ResolveError> {
    if v.expose().contains("PRIVATE KEY-----") {
        Ok(v)
    } else {
        Err(ResolveError::invalid(
            field,
            "the Secret value is not a PEM private key (expected -----BEGIN PRIVATE KEY-----)",
        ))
    }
}
