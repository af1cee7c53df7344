//! Metadata API (SOAP): `readMetadata` of `SecuritySettings` and `Profile`, and
//! `listMetadata` of `Profile` (each profile's Id with its API `fullName`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use quick_xml::Reader;
use quick_xml::events::Event;

use super::ENFORCE_IP_RANGES_FIELD;
use super::state::{Kind, Shared};

/// The parts of a `readMetadata` request the simulator reads.
#[derive(Debug, Default)]
struct ReadRequest {
    session_id: Option<String>,
    operation: Option<String>,
    type_name: Option<String>,
    full_names: Vec<String>,
}

fn parse_request(body: &[u8]) -> Option<ReadRequest> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut req = ReadRequest::default();
    let mut stack: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                if stack.last().is_some_and(|p| p == "Body") && req.operation.is_none() {
                    req.operation = Some(name.clone());
                }
                stack.push(name);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().ok()?.to_string();
                match stack.last().map(String::as_str) {
                    Some("sessionId") => req.session_id = Some(text),
                    Some("type") => req.type_name = Some(text),
                    Some("fullNames") => req.full_names.push(text),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(req)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// A SOAP fault, sent with HTTP 500 as the Metadata API does.
fn fault(code: &str, message: &str) -> Response {
    let body = envelope(&format!(
        "<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {}</faultstring></soapenv:Fault>",
        xml_escape(message)
    ));
    xml(StatusCode::INTERNAL_SERVER_ERROR, body)
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml; charset=utf-8")], body).into_response()
}

pub(crate) async fn soap(
    State(shared): State<Arc<Shared>>,
    Path(_ver): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    shared.count(Kind::Metadata);
    let Some(req) = parse_request(&body) else {
        return fault("INVALID_XML", "could not parse the request envelope");
    };
    let Some(user) = shared.session_user(uri.path(), req.session_id.as_deref()) else {
        return fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
        );
    };
    if shared.spend_call().is_err() {
        return fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    }
    let permitted = shared
        .org
        .lock()
        .permissions_of(super::UserRef(user))
        .metadata_api();
    if !shared.opts.metadata_api || !permitted {
        return fault(
            "INSUFFICIENT_ACCESS",
            "use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions",
        );
    }
    match req.operation.as_deref() {
        Some("readMetadata") => {}
        Some("listMetadata") => return list(&shared, req.type_name.as_deref()),
        _ => {
            return fault(
                "UNKNOWN_EXCEPTION",
                "only readMetadata and listMetadata are simulated",
            );
        }
    }
    if req.full_names.len() > 10 {
        return fault(
            "INVALID_CROSS_REFERENCE_KEY",
            "You can read at most 10 components per call",
        );
    }
    let org = shared.org.lock();
    let mut records = String::new();
    match req.type_name.as_deref() {
        Some("SecuritySettings") => {
            let s = org.security;
            records.push_str(&format!(
                "<records xsi:type=\"SecuritySettings\"><fullName>Security</fullName><passwordPolicies><minimumPasswordLength>8</minimumPasswordLength></passwordPolicies><sessionSettings><forceRelogin>true</forceRelogin><lockSessionsToDomain>true</lockSessionsToDomain><lockSessionsToIp>{}</lockSessionsToIp><{f}>{}</{f}><sessionTimeout>TwoHours</sessionTimeout></sessionSettings></records>",
                s.lock_sessions_to_ip,
                s.enforce_ip_ranges_every_request,
                f = ENFORCE_IP_RANGES_FIELD,
            ));
        }
        Some("Profile") => {
            for name in &req.full_names {
                let Some(p) = org.profiles.iter().find(|p| &p.full_name == name) else {
                    records.push_str("<records xsi:nil=\"true\"/>");
                    continue;
                };
                let ranges: String = p
                    .login_ip_ranges
                    .iter()
                    .map(|r| {
                        let desc = r
                            .description
                            .as_ref()
                            .map(|d| format!("<description>{}</description>", xml_escape(d)))
                            .unwrap_or_default();
                        format!(
                            "<loginIpRanges>{desc}<endAddress>{}</endAddress><startAddress>{}</startAddress></loginIpRanges>",
                            xml_escape(&r.end),
                            xml_escape(&r.start)
                        )
                    })
                    .collect();
                records.push_str(&format!(
                    "<records xsi:type=\"Profile\"><fullName>{}</fullName><custom>{}</custom>{ranges}<userLicense>Salesforce</userLicense></records>",
                    xml_escape(&p.full_name),
                    p.full_name == p.name
                ));
            }
        }
        other => {
            return fault(
                "INVALID_TYPE",
                &format!("Unknown type name '{}' specified", other.unwrap_or("")),
            );
        }
    }
    xml(
        StatusCode::OK,
        envelope(&format!(
            "<readMetadataResponse><result>{records}</result></readMetadataResponse>"
        )),
    )
}

/// `listMetadata` of one type. Only `Profile` is simulated; its `fullName` is the API name,
/// the same in every language.
fn list(shared: &Shared, type_name: Option<&str>) -> Response {
    if type_name != Some("Profile") {
        return fault(
            "INVALID_TYPE",
            &format!("Unknown type name '{}' specified", type_name.unwrap_or("")),
        );
    }
    let org = shared.org.lock();
    let results: String = org
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<result><createdById>{creator}</createdById><createdByName>Admin User</createdByName><createdDate>2020-01-01T00:00:00.000Z</createdDate><fileName>profiles/{name}.profile</fileName><fullName>{name}</fullName><id>{id}</id><lastModifiedById>{creator}</lastModifiedById><lastModifiedByName>Admin User</lastModifiedByName><lastModifiedDate>2020-01-01T00:00:00.000Z</lastModifiedDate><manageableState>unmanaged</manageableState><type>Profile</type></result>",
                creator = org.user_id(super::UserRef(0)),
                name = xml_escape(&p.full_name),
                id = org.profile_id(super::ProfileRef(i)),
            )
        })
        .collect();
    xml(
        StatusCode::OK,
        envelope(&format!(
            "<listMetadataResponse>{results}</listMetadataResponse>"
        )),
    )
}
