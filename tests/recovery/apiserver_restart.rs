//! kube-apiserver dies in the middle of a sync and comes back a few seconds later; the same
//! `idgap run` process (never restarted) finishes the job on its own.

use std::time::{Duration, Instant};

use crate::operator_process::{Launch, OperatorProcess};
use crate::support::{Cluster, eventually};
use crate::world::{INTEGRATION, WAIT, World, assert_kept, keys, last_success};

/// How long the API server stays down after the operator noticed it was gone.
const EXTRA_DOWNTIME: Duration = Duration::from_secs(3);
/// After a restart the operator's watches resume with "410 Gone" (the new API server's watch
/// cache starts at the current revision) and relist after the operator's watch backoff (at
/// most 5 s a step, `src/operator/watch_backoff.rs`); with kube-runtime's default (up to 30 s
/// a step) changes seen only through a watch took up to 73 s to arrive. A generous bound on a
/// loaded 2-core machine, not a speed claim.
const WATCH_RECOVERY: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_apiserver_restart_mid_sync_is_recovered_by_the_same_operator_process() {
    let _one = crate::ONE_AT_A_TIME.lock().await;
    let test_started = Instant::now();
    let cluster = Cluster::dedicated("apiserver-restart").await;
    let world = World::start(&cluster, "recovery-apiserver").await;
    let operator = OperatorProcess::start(Launch {
        instance: "idgap-solo",
        kubeconfig: cluster.kubeconfig_path(),
        namespace: &world.ns,
        leader_election: false,
        log_dir: cluster.scratch_dir(),
    })
    .await;
    let pid = operator.pid;

    // A first complete sync: the findings that must survive the outage.
    let first = world.wait_synced(None).await;
    let before = world.stored().await;
    assert_eq!(keys(&before), world.expected_initially());
    assert_eq!(operator.finding_writes("create").await, 3.0);

    // The org changes, Salesforce turns slow, and a sync is requested.
    let token = "after-apiserver-restart";
    let added = world.start_slow_sync("frank@acme.com", token).await;

    // kube-apiserver dies in the middle of the sync.
    let apiserver_pid = cluster.kill_apiserver();
    let killed = Instant::now();
    let calls_at_kill = world.salesforce_calls();
    assert!(!cluster.apiserver_running());
    eprintln!("killed kube-apiserver (pid {apiserver_pid}) after {calls_at_kill} Salesforce calls");
    // The sync goes on reading Salesforce, then cannot write the new finding: the operator
    // counts the failure (its /metrics does not need the API server).
    eventually(
        "the operator to report the AccessFinding writes it could not make",
        WAIT,
        || async {
            (operator.integration_errors("FindingsApplyFailed").await >= 1.0).then_some(())
        },
    )
    .await;
    assert!(
        world.salesforce_calls() > calls_at_kill,
        "the sync was still reading Salesforce when kube-apiserver died"
    );
    let noticed = killed.elapsed();
    world.fast_salesforce();
    tokio::time::sleep(EXTRA_DOWNTIME).await;
    assert!(operator.alive(), "the operator survives the outage");

    let restart_took = cluster.start_apiserver().await;
    let outage = killed.elapsed();
    let back = Instant::now();

    // The same process completes a sync on its own: Ready=True, exactly the right findings.
    let recovered = world.wait_synced(Some(token)).await;
    let recovery = back.elapsed();
    assert!(
        last_success(&recovered) > last_success(&first),
        "lastSuccessfulSyncTime advanced past the outage: {:?} then {:?}",
        first.status.as_ref().map(|s| &s.last_successful_sync_time),
        recovered
            .status
            .as_ref()
            .map(|s| &s.last_successful_sync_time),
    );
    let after = world.stored().await;
    let expected = world.expected_with(added);
    assert_eq!(
        keys(&after),
        expected,
        "exactly the right findings, no duplicate"
    );
    // Nothing from before the outage was lost or recreated: same names, same uids.
    assert_kept(&before, &after, "from before the outage is kept as it was");
    assert_eq!(operator.pid, pid);
    assert!(operator.alive(), "never restarted");
    // One create for the new finding after the three of the first sync; nothing rewritten.
    assert_eq!(operator.finding_writes("create").await, 4.0);
    assert_eq!(operator.finding_writes("update").await, 0.0);
    assert_eq!(operator.finding_writes("delete").await, 0.0);

    // The outage was reported in a way an operator can act on: a warning naming the reason,
    // saying what to check and that the next sync retries.
    let warnings: Vec<serde_json::Value> = operator
        .log_lines()
        .into_iter()
        .filter(|l| {
            l["level"] == "WARN"
                && l["fields"]["message"] == "sync failed"
                && l["fields"]["reason"] == "FindingsApplyFailed"
        })
        .collect();
    assert!(
        !warnings.is_empty(),
        "a `sync failed` warning with reason FindingsApplyFailed; the log:\n{}",
        operator.log_text()
    );
    let error = warnings[0]["fields"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("AccessFinding writes failed")
            && error.contains("API server's health")
            && error.contains("the next sync retries"),
        "{error}"
    );
    assert_eq!(warnings[0]["fields"]["name"], INTEGRATION);
    let events = world.integration_events().await;
    assert!(
        events.contains(&("FindingsChanged".to_string(), "idgap-solo".to_string())),
        "the sync after the outage recorded its changes: {events:?}"
    );

    // The watches come back: an annotation set now (seen only through the watch; the next
    // timed sync is an hour away) is handled.
    let again = "watch-after-restart";
    let asked = Instant::now();
    world.request_sync(again).await;
    world.wait_synced_within(Some(again), WATCH_RECOVERY).await;
    let watch_latency = asked.elapsed();
    assert_eq!(keys(&world.stored().await), expected);
    assert_eq!(operator.finding_writes("create").await, 4.0);
    assert!(operator.alive());

    eprintln!(
        "apiserver restart: failure noticed {noticed:.1?} after the kill, outage {outage:.1?} \
         (restart took {restart_took:.1?}), Ready=True {recovery:.1?} after the API server was \
         back, a sync requested then handled after {watch_latency:.1?}; test ran {:.1?}",
        test_started.elapsed()
    );
}

/// With refresh-token rotation on, Salesforce hands out a new refresh token at the sign-in of
/// the interrupted sync and invalidates the stored one; the operator can only store it after
/// reading the org, when the API server is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_apiserver_restart_mid_sync_with_refresh_token_rotation() {
    let _one = crate::ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::dedicated("apiserver-restart-rotation").await;
    let world = World::start_with(&cluster, "recovery-rotation", true).await;
    let operator = OperatorProcess::start(Launch {
        instance: "idgap-solo",
        kubeconfig: cluster.kubeconfig_path(),
        namespace: &world.ns,
        leader_election: false,
        log_dir: cluster.scratch_dir(),
    })
    .await;
    world.wait_synced(None).await;
    let token = "after-apiserver-restart";
    let added = world.start_slow_sync("frank@acme.com", token).await;
    cluster.kill_apiserver();
    eventually(
        "the operator to report the AccessFinding writes it could not make",
        WAIT,
        || async {
            (operator.integration_errors("FindingsApplyFailed").await >= 1.0).then_some(())
        },
    )
    .await;
    world.fast_salesforce();
    tokio::time::sleep(EXTRA_DOWNTIME).await;
    cluster.start_apiserver().await;

    // Every sync after the outage settles; the first one must be a success.
    let api = world.integrations();
    let handled = eventually("the requested sync to be handled", WAIT, || {
        let api = api.clone();
        async move {
            let o = api.get(INTEGRATION).await.ok()?;
            let s = o.status.clone()?;
            (s.last_handled_reconcile_at.as_deref() == Some(token) && crate::world::settled(&o))
                .then_some(o)
        }
    })
    .await;
    let ready = crate::world::condition(&handled, "Ready");
    assert!(
        ready
            .as_ref()
            .is_some_and(|c| c.status == "True" && c.reason == "Succeeded"),
        "Ready after the outage: {ready:?}; the operator's warnings:\n{}",
        operator
            .log_lines()
            .iter()
            .filter(|l| l["level"] == "WARN")
            .map(|l| l["fields"].to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(keys(&world.stored().await), world.expected_with(added));
}
