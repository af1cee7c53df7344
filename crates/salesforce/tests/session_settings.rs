//! Profile login IP ranges through the Metadata API, for custom profiles whose names need
//! the Metadata API's percent-encoding.

mod common;

use common::*;
use idgap_salesforce::sync;
use idgap_sim::salesforce::SimOptions;
use jiff::Timestamp;

/// Regression: a custom profile named with special characters was asked for by its plain
/// name, which the Metadata API does not know, so its login IP ranges were missed.
#[tokio::test]
async fn ranges_of_a_profile_with_special_characters_are_read() {
    let now = Timestamp::now();
    let (mut org, _) = scenario(now);
    let custom = org.add_profile("Custom: Sales (EU) – Über");
    org.add_login_ip_range(custom, "192.0.2.0", "192.0.2.255");
    assert_eq!(
        org.profiles[custom.0].full_name,
        "Custom%3A Sales %28EU%29 %E2%80%93 %C3%9Cber"
    );
    let sim = start(org, SimOptions::default()).await;
    let out = sync(&http(), &refresh_config(&sim, now)).await.unwrap();
    let ss = out.snapshot.session_settings.unwrap();
    assert_eq!(
        ss.profiles_with_login_ip_ranges,
        vec![
            "Custom: Sales (EU) – Über".to_string(),
            "System Administrator".to_string()
        ]
    );
}
