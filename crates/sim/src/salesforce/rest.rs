//! REST endpoints: versions, limits, identity, and `query` / Tooling `query` with paging.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::UserPermissions;
use super::schema::Obj;
use super::soql::{self, QueryError, Select, Visibility};
use super::state::{Cursor, Kind, Shared, bearer, json_response, json_text_response, rest_error};

const INVALID_SESSION: &str = "Session expired or invalid";

struct Access<'a> {
    shared: &'a Shared,
    tooling: bool,
    /// What the session's user may see.
    perms: UserPermissions,
}

impl Visibility for Access<'_> {
    fn object_visible(&self, obj: Obj) -> bool {
        let hidden = self
            .shared
            .opts
            .hidden_objects
            .iter()
            .any(|h| h.eq_ignore_ascii_case(obj.name()));
        // UserLogin needs Manage Users; without it the object does not exist for the reader.
        let permitted = obj != Obj::UserLogin || self.perms.manage_users;
        !hidden && permitted && (self.tooling || !obj.tooling_only())
    }

    fn field_visible(&self, obj: Obj, field: &str) -> bool {
        !self
            .shared
            .opts
            .hidden_fields
            .iter()
            .any(|(o, f)| o.eq_ignore_ascii_case(obj.name()) && f.eq_ignore_ascii_case(field))
    }
}

/// Checks the session and spends one API call. `Err` is the response to send.
#[allow(clippy::result_large_err)]
fn begin(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Result<(usize, (u64, u64)), Response> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let Some(user) = shared.session_user(path, bearer(headers)) else {
        return Err(rest_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            INVALID_SESSION,
            None,
        ));
    };
    match shared.spend_call() {
        Ok(limit) => Ok((user, limit)),
        Err(limit) => Err(rest_error(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            Some(limit),
        )),
    }
}

/// `GET /services/data/` — no auth, no `Sforce-Limit-Info`, does not count.
pub(crate) async fn versions(State(shared): State<Arc<Shared>>) -> Response {
    shared.count(Kind::Other);
    let list: Vec<_> = [
        ("60.0", "Spring '24"),
        ("61.0", "Summer '24"),
        ("62.0", "Winter '25"),
        ("63.0", "Spring '25"),
    ]
    .iter()
    .map(
        |(v, label)| json!({ "version": v, "label": label, "url": format!("/services/data/v{v}") }),
    )
    .collect();
    json_response(StatusCode::OK, &json!(list), None)
}

pub(crate) async fn limits(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Other);
    let (_, (used, max)) = match begin(&shared, &uri, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body = json!({
        "DailyApiRequests": { "Max": max, "Remaining": max.saturating_sub(used) },
        "DailyBulkApiRequests": { "Max": 10000, "Remaining": 10000 },
    });
    json_response(StatusCode::OK, &body, Some((used, max)))
}

pub(crate) async fn identity(
    State(shared): State<Arc<Shared>>,
    Path((org_id, user_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Other);
    let Some(user) = shared.session_user(uri.path(), bearer(&headers)) else {
        return rest_error(
            StatusCode::FORBIDDEN,
            "INVALID_SESSION_ID",
            "Bad_OAuth_Token",
            None,
        );
    };
    let org = shared.org.lock();
    if org.org_id() != org_id || org.user_id(super::UserRef(user)) != user_id {
        return rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS", "Bad_Id", None);
    }
    let u = &org.users[user];
    let base = shared.base();
    let body = json!({
        "id": format!("{base}/id/{org_id}/{user_id}"),
        "user_id": user_id,
        "organization_id": org_id,
        "username": u.username,
        "email": u.email,
        "user_type": u.user_type.to_uppercase(),
        "active": u.is_active,
        "urls": {
            "rest": format!("{base}/services/data/v{{version}}/"),
            "query": format!("{base}/services/data/v{{version}}/query/"),
            "metadata": format!("{base}/services/Soap/m/{{version}}/{}", &org_id[..15]),
        }
    });
    json_response(StatusCode::OK, &body, None)
}

pub(crate) async fn query(
    State(shared): State<Arc<Shared>>,
    Path(ver): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Query);
    run_query(&shared, &ver, params.get("q"), &uri, &headers, false)
}

pub(crate) async fn tooling_query(
    State(shared): State<Arc<Shared>>,
    Path(ver): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Tooling);
    run_query(&shared, &ver, params.get("q"), &uri, &headers, true)
}

pub(crate) async fn query_more(
    State(shared): State<Arc<Shared>>,
    Path((ver, locator)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Query);
    more(&shared, &ver, &locator, &uri, &headers, false)
}

pub(crate) async fn tooling_query_more(
    State(shared): State<Arc<Shared>>,
    Path((ver, locator)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.count(Kind::Tooling);
    more(&shared, &ver, &locator, &uri, &headers, true)
}

fn batch_size(shared: &Shared, headers: &HeaderMap) -> usize {
    let requested = headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split([',', ';'])
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
                .and_then(|(_, n)| n.trim().parse::<usize>().ok())
        })
        .unwrap_or(shared.opts.max_batch_size);
    requested.clamp(shared.opts.min_batch_size, shared.opts.max_batch_size)
}

fn valid_version(ver: &str) -> bool {
    ver.strip_prefix('v')
        .and_then(|v| v.parse::<f64>().ok())
        .is_some_and(|v| (20.0..=70.0).contains(&v))
}

fn run_query(
    shared: &Shared,
    ver: &str,
    q: Option<&String>,
    uri: &Uri,
    headers: &HeaderMap,
    tooling: bool,
) -> Response {
    if !valid_version(ver) {
        return rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
            None,
        );
    }
    let (user, limit) = match begin(shared, uri, headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let perms = shared.org.lock().permissions_of(super::UserRef(user));
    let Some(q) = q else {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
            Some(limit),
        );
    };
    let access = Access {
        shared,
        tooling,
        perms,
    };
    let parsed = match soql::parse(q, &access) {
        Ok(p) => p,
        Err(e) => return query_error(q, e, limit),
    };
    let org = shared.org.lock();
    let mut rows = soql::execute(&org, &parsed);
    // Rows the reader may not see are left out silently, as Salesforce does.
    match parsed.object {
        Obj::OauthToken if !perms.customize_application => rows.retain(|&i| {
            org.oauth_tokens[i as usize]
                .user
                .is_some_and(|u| u.0 == user)
        }),
        Obj::UserPermissionAccess => rows.retain(|&i| i as usize == user),
        _ => {}
    }
    let total_size = rows.len();
    let fields = match parsed.select {
        Select::Count => {
            shared.count_page(parsed.object);
            let body = json!({ "totalSize": total_size, "done": true, "records": [] });
            return json_response(StatusCode::OK, &body, Some(limit));
        }
        Select::Fields(f) => f,
    };
    let mut batch = batch_size(shared, headers);
    if parsed.object == Obj::OauthToken
        && let Some(cap) = shared.opts.oauth_token_cap
    {
        rows.truncate(cap.total);
        batch = batch.min(cap.page);
    }
    let cursor = Cursor {
        object: parsed.object,
        fields,
        rows,
        total_size,
        batch,
        tooling,
        version: ver.to_string(),
    };
    let (locator, cursor) = shared.store_cursor(cursor);
    page(shared, &org, &cursor, &locator, 0, limit)
}

fn more(
    shared: &Shared,
    ver: &str,
    locator: &str,
    uri: &Uri,
    headers: &HeaderMap,
    tooling: bool,
) -> Response {
    let (_, limit) = match begin(shared, uri, headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let found = locator
        .rsplit_once('-')
        .and_then(|(loc, off)| Some((loc, off.parse::<usize>().ok()?)))
        .and_then(|(loc, off)| Some((loc, shared.cursor(loc)?, off)));
    match found {
        Some((loc, cursor, offset))
            if cursor.tooling == tooling
                && cursor.version == ver
                && offset <= cursor.rows.len() =>
        {
            let org = shared.org.lock();
            page(shared, &org, &cursor, loc, offset, limit)
        }
        _ => rest_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
            Some(limit),
        ),
    }
}

fn page(
    shared: &Shared,
    org: &super::OrgData,
    cursor: &Cursor,
    locator: &str,
    offset: usize,
    limit: (u64, u64),
) -> Response {
    shared.count_page(cursor.object);
    let end = (offset + cursor.batch).min(cursor.rows.len());
    let done = end >= cursor.rows.len();
    let mut body = String::with_capacity(64 + (end - offset) * 400);
    body.push_str(&format!(
        "{{\"totalSize\":{},\"done\":{done}",
        cursor.total_size
    ));
    if cursor.tooling {
        body.push_str(&format!(
            ",\"size\":{},\"entityTypeName\":\"{}\"",
            cursor.total_size,
            cursor.object.name()
        ));
    }
    if !done {
        let tooling = if cursor.tooling { "tooling/" } else { "" };
        body.push_str(&format!(
            ",\"nextRecordsUrl\":\"/services/data/{}/{tooling}query/{locator}-{end}\"",
            cursor.version
        ));
    }
    body.push_str(",\"records\":[");
    let live = cursor.object.len(org);
    let mut first = true;
    for i in cursor.rows[offset..end]
        .iter()
        .map(|i| *i as usize)
        .filter(|i| *i < live)
    {
        if !first {
            body.push(',');
        }
        first = false;
        soql::write_record(
            &mut body,
            org,
            cursor.object,
            i,
            &cursor.fields,
            &cursor.version,
        );
    }
    body.push_str("]}");
    json_text_response(StatusCode::OK, body, Some(limit))
}

fn query_error(q: &str, e: QueryError, limit: (u64, u64)) -> Response {
    let (code, message) = match e {
        QueryError::Malformed(m) => ("MALFORMED_QUERY", m),
        QueryError::InvalidType(t) => (
            "INVALID_TYPE",
            format!(
                "sObject type '{t}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
            ),
        ),
        QueryError::InvalidField {
            field,
            object,
            column,
        } => (
            "INVALID_FIELD",
            format!(
                "\n{q}\n{caret:>column$}\nERROR at Row:1:Column:{column}\nNo such column '{field}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                caret = "^"
            ),
        ),
    };
    rest_error(StatusCode::BAD_REQUEST, code, &message, Some(limit))
}
