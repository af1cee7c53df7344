//! Metadata API `readMetadata` and `listMetadata` over SOAP, read-only.

use idgap_net::{Attempt, HttpResponse, Method, NetError, StatusCode, parse_retry_after};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::auth::Session;
use crate::error::SyncError;
use crate::rest::{CallError, Rest};

/// One `records` element: its leaf values as `path → text` (paths relative to the record,
/// e.g. `sessionSettings/lockSessionsToIp`), in document order.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct MetadataRecord {
    pub fields: Vec<(String, String)>,
}

impl MetadataRecord {
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.fields.iter().any(|(p, _)| p.starts_with(prefix))
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum SoapBody {
    Records(Vec<MetadataRecord>),
    Fault { code: String, message: String },
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Parses a `readMetadataResponse` or a SOAP fault.
pub(crate) fn parse_response(xml: &[u8]) -> Option<SoapBody> {
    parse_items(xml, "records")
}

/// Parses a response whose items are the outermost `item` elements (`records` in
/// `readMetadataResponse`, `result` in `listMetadataResponse`), or a SOAP fault.
pub(crate) fn parse_items(xml: &[u8], item: &str) -> Option<SoapBody> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut current: Option<(usize, MetadataRecord)> = None;
    let (mut fault_code, mut fault_msg, mut in_fault, mut saw_body) = (None, None, false, false);
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                match name.as_str() {
                    "Fault" => in_fault = true,
                    "Body" => saw_body = true,
                    n if n == item && current.is_none() => {
                        current = Some((stack.len() + 1, MetadataRecord::default()))
                    }
                    _ => {}
                }
                stack.push(name);
            }
            Event::End(_) => {
                if let Some((depth, _)) = &current
                    && stack.len() == *depth
                {
                    records.push(current.take().expect("present").1);
                }
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().ok()?.to_string();
                if in_fault {
                    match stack.last().map(String::as_str) {
                        Some("faultcode") => fault_code = Some(text),
                        Some("faultstring") => fault_msg = Some(text),
                        _ => {}
                    }
                } else if let Some((depth, rec)) = current.as_mut() {
                    let path = stack[*depth..].join("/");
                    rec.fields.push((path, text));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() || !saw_body {
        return None;
    }
    if in_fault {
        let code = fault_code.unwrap_or_default();
        let code = code.rsplit(':').next().unwrap_or("").to_string();
        return Some(SoapBody::Fault {
            code,
            message: fault_msg.unwrap_or_default(),
        });
    }
    Some(SoapBody::Records(records))
}

impl Rest {
    /// `readMetadata(type, fullNames)`; at most 10 names per call.
    pub async fn read_metadata(
        &self,
        type_name: &str,
        full_names: &[String],
    ) -> Result<Vec<MetadataRecord>, SyncError> {
        let what = format!("Salesforce Metadata API readMetadata {type_name}");
        let names: String = full_names
            .iter()
            .map(|n| format!("<met:fullNames>{}</met:fullNames>", escape(n)))
            .collect();
        let operation = format!(
            "<met:readMetadata><met:type>{}</met:type>{names}</met:readMetadata>",
            escape(type_name)
        );
        self.with_session(&what, |session| {
            let (what, operation) = (what.clone(), operation.clone());
            async move { self.soap_call(&what, &operation, "records", &session).await }
        })
        .await
    }

    /// `listMetadata` of one type: one record per component (`fullName`, `id`, …).
    pub async fn list_metadata(&self, type_name: &str) -> Result<Vec<MetadataRecord>, SyncError> {
        let what = format!("Salesforce Metadata API listMetadata {type_name}");
        let version = self.version.trim_start_matches('v').to_string();
        let operation = format!(
            "<met:listMetadata><met:queries><met:type>{}</met:type></met:queries><met:asOfVersion>{}</met:asOfVersion></met:listMetadata>",
            escape(type_name),
            escape(&version)
        );
        self.with_session(&what, |session| {
            let (what, operation) = (what.clone(), operation.clone());
            async move { self.soap_call(&what, &operation, "result", &session).await }
        })
        .await
    }

    async fn soap_call(
        &self,
        what: &str,
        operation: &str,
        item: &str,
        session: &Session,
    ) -> Result<Vec<MetadataRecord>, CallError> {
        let version = self.version.trim_start_matches('v');
        let url = format!("{}/services/Soap/m/{version}", session.instance_url);
        let envelope = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><met:SessionHeader><met:sessionId>{}</met:sessionId></met:SessionHeader></soapenv:Header><soapenv:Body>{operation}</soapenv:Body></soapenv:Envelope>"#,
            escape(session.access_token.expose()),
        );
        let mut unreadable = None;
        let result = self
            .http
            .with_body_limit(self.metadata_body_limit)
            .request(
                what,
                Method::POST,
                &url,
                |rb| {
                    rb.header("content-type", "text/xml; charset=UTF-8")
                        .header("soapaction", "\"\"")
                        .body(envelope.clone())
                },
                |resp| {
                    let outcome = self.classify_soap(what, item, resp);
                    if let Attempt::Retry { reason, .. } = &outcome {
                        unreadable = reason.starts_with("unreadable").then(|| reason.clone());
                    }
                    outcome
                },
            )
            .await;
        match result {
            Err(CallError::Sync(SyncError::Net(NetError::RetriesExhausted {
                attempts, ..
            }))) if unreadable.is_some() => Err(CallError::Sync(SyncError::Protocol {
                what: what.to_string(),
                detail: format!(
                    "{} (after {attempts} attempts)",
                    unreadable.unwrap_or_default()
                ),
            })),
            other => other,
        }
    }

    fn classify_soap(
        &self,
        what: &str,
        item: &str,
        resp: HttpResponse,
    ) -> Attempt<Vec<MetadataRecord>, CallError> {
        let status = resp.status;
        match parse_items(&resp.body, item) {
            Some(SoapBody::Records(r)) if status == StatusCode::OK => {
                self.budget
                    .calls
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Attempt::Done(r)
            }
            Some(SoapBody::Fault { code, message }) => {
                self.budget
                    .calls
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match code.as_str() {
                    "INVALID_SESSION_ID" => Attempt::Fail(CallError::SessionInvalid),
                    "REQUEST_LIMIT_EXCEEDED" if message.contains("TotalRequests") => {
                        let (_, used, limit) = self.budget.snapshot();
                        Attempt::Fail(CallError::Sync(SyncError::RequestLimitExceeded {
                            used,
                            limit,
                        }))
                    }
                    "REQUEST_LIMIT_EXCEEDED" | "SERVER_UNAVAILABLE" => Attempt::Retry {
                        after: parse_retry_after(&resp.headers),
                        reason: format!("SOAP fault {code}"),
                    },
                    _ => Attempt::Fail(CallError::Sync(SyncError::Query {
                        object: "Metadata API".into(),
                        code,
                        message,
                    })),
                }
            }
            _ if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                Attempt::Retry {
                    after: parse_retry_after(&resp.headers),
                    reason: format!("HTTP {}", status.as_u16()),
                }
            }
            _ if status == StatusCode::OK => Attempt::Retry {
                after: None,
                reason: "unreadable response: the SOAP body was cut off or not XML".into(),
            },
            _ => Attempt::Fail(CallError::Sync(SyncError::Query {
                object: "Metadata API".into(),
                code: format!("HTTP_{}", status.as_u16()),
                message: format!("{what} answered HTTP {}", status.as_u16()),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_faults() {
        let ok = br#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><readMetadataResponse><result><records><fullName>Security</fullName><sessionSettings><lockSessionsToIp>true</lockSessionsToIp></sessionSettings></records><records><fullName>Admin</fullName><loginIpRanges><startAddress>1.1.1.1</startAddress></loginIpRanges></records></result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        let SoapBody::Records(r) = parse_response(ok).unwrap() else {
            panic!("records")
        };
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].get("sessionSettings/lockSessionsToIp"), Some("true"));
        assert!(r[1].has_prefix("loginIpRanges/"));
        let fault = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INSUFFICIENT_ACCESS</faultcode><faultstring>INSUFFICIENT_ACCESS: no</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            parse_response(fault),
            Some(SoapBody::Fault {
                code: "INSUFFICIENT_ACCESS".into(),
                message: "INSUFFICIENT_ACCESS: no".into()
            })
        );
        assert_eq!(parse_response(&ok[..ok.len() / 2]), None);
        assert_eq!(parse_response(b"<html><body>busy</body></html>"), None);
    }

    #[test]
    fn list_metadata_items_are_the_result_elements() {
        let ok = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><listMetadataResponse><result><fullName>Admin</fullName><id>00e5g000000AAAAAA2</id><type>Profile</type></result><result><fullName>Custom%3A Sales</fullName><id>00e5g000000BBBBBB2</id><type>Profile</type></result></listMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        let SoapBody::Records(r) = parse_items(ok, "result").unwrap() else {
            panic!("records")
        };
        let names: Vec<_> = r.iter().map(|r| (r.get("fullName"), r.get("id"))).collect();
        assert_eq!(
            names,
            [
                (Some("Admin"), Some("00e5g000000AAAAAA2")),
                (Some("Custom%3A Sales"), Some("00e5g000000BBBBBB2"))
            ]
        );
        let empty = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><listMetadataResponse/></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            parse_items(empty, "result"),
            Some(SoapBody::Records(vec![]))
        );
    }
}

/// Fuzz-style properties: any SOAP body gives `None` or a whole answer, never a panic.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::wire::robustness::config;
    use proptest::prelude::*;
    use proptest::sample::Index;

    const VALID: &str = r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><readMetadataResponse><result><records><fullName>Security</fullName><sessionSettings><lockSessionsToIp>true</lockSessionsToIp></sessionSettings></records><records><fullName>Admin</fullName><loginIpRanges><startAddress>1.1.1.1</startAddress></loginIpRanges></records></result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#;

    /// Fragments a hostile or broken server might put anywhere in the body.
    const FRAGMENTS: &[&str] = &[
        "<records>",
        "</records>",
        "<records/>",
        "<a>x</b>",
        "&#0;",
        "&#xFFFFFFFF;",
        "&nosuch;",
        "&amp;&lt;",
        "<![CDATA[x]]>",
        "<!-- c -->",
        "<?pi x?>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]>",
        "\u{0}",
        "\u{202e}é😀",
        "<soapenv:Fault><faultcode>sf:X</faultcode></soapenv:Fault>",
        "<faultcode>a:b:c</faultcode>",
        "</soapenv:Body>",
        "<x:y:z>",
        "<>",
        "</>",
    ];

    fn body_mutation() -> impl Strategy<Value = Vec<u8>> {
        let valid = VALID.as_bytes();
        prop_oneof![
            (any::<Index>(), prop::sample::select(FRAGMENTS)).prop_map(move |(i, f)| {
                let mut b = valid.to_vec();
                let at = i.index(b.len() + 1);
                b.splice(at..at, f.bytes());
                b
            }),
            (any::<Index>(), any::<u8>()).prop_map(move |(i, x)| {
                let mut b = valid.to_vec();
                let at = i.index(b.len());
                b[at] = x;
                b
            }),
            (any::<Index>(), any::<Index>()).prop_map(move |(a, z)| {
                // A stretch of the body cut out.
                let (a, z) = (a.index(valid.len()), z.index(valid.len()));
                let (a, z) = (a.min(z), a.max(z));
                [&valid[..a], &valid[z..]].concat()
            }),
        ]
    }

    fn check_sane(body: &[u8], parsed: Option<SoapBody>) -> Result<(), TestCaseError> {
        if let Some(SoapBody::Records(records)) = parsed {
            let opened = body.windows(8).filter(|w| w == b"<records").count();
            prop_assert!(
                records.len() <= opened,
                "{} records from {opened} tags",
                records.len()
            );
            for r in &records {
                for (path, _) in &r.fields {
                    prop_assert!(!path.starts_with('/') && !path.ends_with('/'), "{path}");
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..1024)) {
            let parsed = parse_response(&body);
            check_sane(&body, parsed)?;
        }

        #[test]
        fn xml_like_text_never_panics(body in "(<[a-zA-Z:/]{0,8}>|[a-z&;#0-9 ]{0,6}){0,40}") {
            let parsed = parse_response(body.as_bytes());
            check_sane(body.as_bytes(), parsed)?;
        }

        #[test]
        fn mutated_responses_are_whole_or_refused(body in body_mutation()) {
            let parsed = parse_response(&body);
            check_sane(&body, parsed)?;
        }
    }

    #[test]
    fn a_response_cut_anywhere_is_refused() {
        let valid = VALID.as_bytes();
        for n in 0..valid.len() {
            assert_eq!(parse_response(&valid[..n]), None, "cut at {n}");
        }
        assert!(matches!(parse_response(valid), Some(SoapBody::Records(r)) if r.len() == 2));
    }

    #[test]
    fn deep_nesting_inside_a_record_is_read_without_overflow() {
        let depth = 20_000;
        let body = format!(
            r#"<e:Envelope xmlns:e="s"><e:Body><r><records>{}v{}</records></r></e:Body></e:Envelope>"#,
            "<n>".repeat(depth),
            "</n>".repeat(depth)
        );
        let Some(SoapBody::Records(r)) = parse_response(body.as_bytes()) else {
            panic!("a deep but well-formed record is still a record")
        };
        assert_eq!(r[0].fields.len(), 1);
        assert_eq!(r[0].fields[0].0.matches('n').count(), depth);
    }

    #[test]
    fn non_utf8_text_is_refused() {
        let body = VALID.replace("Security", "Sec\u{1}urity").into_bytes();
        let body: Vec<u8> = body
            .iter()
            .map(|&b| if b == 1 { 0xff } else { b })
            .collect();
        assert_eq!(parse_response(&body), None);
    }
}

/// Entry point for the coverage-guided fuzz targets in `fuzz/`: the Metadata API response
/// parser the robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    /// A parsed `readMetadataResponse` (each record's `path → text` leaves) or SOAP fault.
    #[derive(Debug, PartialEq)]
    pub enum MetadataAnswer {
        Records(Vec<Vec<(String, String)>>),
        Fault { code: String, message: String },
    }

    pub fn metadata_response(xml: &[u8]) -> Option<MetadataAnswer> {
        Some(match super::parse_response(xml)? {
            super::SoapBody::Records(records) => {
                for record in &records {
                    for (path, _) in &record.fields {
                        assert!(record.get(path).is_some() && record.has_prefix(path));
                    }
                }
                MetadataAnswer::Records(records.into_iter().map(|r| r.fields).collect())
            }
            super::SoapBody::Fault { code, message } => MetadataAnswer::Fault { code, message },
        })
    }
}
