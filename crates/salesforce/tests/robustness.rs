//! Hostile values in otherwise well-formed answers, end to end through the simulator: a
//! server's figures are never trusted for allocation sizes or arithmetic that can panic.
//! (The parser-level fuzz-style properties live next to the parsers, in `mod robustness`.)

mod common;

/// Named so that `cargo test -p idgap-salesforce robustness` selects these too.
mod robustness {
    use crate::common::*;
    use idgap_sim::faults::{Fault, FaultRule};
    use idgap_sim::salesforce::{GenerateSpec, OrgData, SimOptions};
    use jiff::Timestamp;

    fn answer_200(body: &str, headers: Vec<(String, String)>) -> Fault {
        Fault::Status {
            status: 200,
            retry_after: None,
            body: Some(body.to_string()),
            headers,
        }
    }

    /// Regression: the OAuth grant count was used as a `Vec` capacity as-is, so a `COUNT()`
    /// answer of `u64::MAX` panicked ("capacity overflow") and a large one aborted the process.
    #[tokio::test]
    async fn an_absurd_oauth_grant_count_reads_the_grants_in_windows() {
        let org = OrgData::generate(
            5,
            &GenerateSpec {
                users: 20,
                oauth_grants: 12,
                audit_events: 2,
                ..Default::default()
            },
        );
        let sim = start(org, SimOptions::default()).await;
        sim.faults().push(FaultRule::new(
            "COUNT%28%29+FROM+OauthToken",
            answer_200(
                r#"{"totalSize":18446744073709551615,"done":true,"records":[]}"#,
                Vec::new(),
            ),
        ));
        let snap = idgap_salesforce::sync(&http(), &refresh_config(&sim, Timestamp::now()))
            .await
            .expect("the windowed read does not trust the count")
            .snapshot;
        assert_eq!(snap.oauth_grants.len(), 12);
        assert!(snap.gaps.is_empty(), "{:?}", snap.gaps);
    }

    /// An `Sforce-Limit-Info` with extreme figures is read without overflow: `u64::MAX` used
    /// of a `u64::MAX` limit is at the share, so the sync stops with the budget error.
    #[tokio::test]
    async fn extreme_limit_figures_stop_the_sync_cleanly() {
        let org = OrgData::generate(6, &GenerateSpec::default());
        let sim = start(org, SimOptions::default()).await;
        let max = u64::MAX;
        sim.faults().push(FaultRule::new(
            "FROM+Organization",
            answer_200(
                r#"{"totalSize":1,"done":true,"records":[{"Id":"00D000000000001","IsSandbox":false}]}"#,
                vec![("sforce-limit-info".into(), format!("api-usage={max}/{max}"))],
            ),
        ));
        let err = idgap_salesforce::sync(&http(), &refresh_config(&sim, Timestamp::now()))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "ApiBudgetExhausted", "{err}");
        assert!(err.to_string().contains(&max.to_string()), "{err}");
    }
}
