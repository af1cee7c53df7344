//! Two `idgap run` processes with leader election: only the Lease holder works; `kill -9` of
//! the leader in the middle of a sync hands the Lease to the other, which completes the sync.

use std::time::Instant;

use crate::operator_process::{Launch, OperatorProcess};
use crate::support::{Cluster, eventually};
use crate::world::{INTEGRATION, WAIT, World, assert_kept, condition, keys, last_success, settled};

async fn wait_holder(world: &World, identity: &str) {
    eventually(&format!("{identity} to hold the Lease"), WAIT, || async {
        let (holder, _) = world.lease().await?;
        (holder == identity).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_mid_sync_hands_over_to_the_other_process() {
    let _one = crate::ONE_AT_A_TIME.lock().await;
    let test_started = Instant::now();
    let cluster = Cluster::dedicated("failover").await;
    let world = World::start(&cluster, "recovery-failover").await;
    let launch = |instance| Launch {
        instance,
        kubeconfig: cluster.kubeconfig_path(),
        namespace: &world.ns,
        leader_election: true,
        log_dir: cluster.scratch_dir(),
    };
    let a = OperatorProcess::start(launch("replica-a")).await;
    wait_holder(&world, "replica-a").await;
    let b = OperatorProcess::start(launch("replica-b")).await;

    // The leader syncs; the standby only waits.
    let first = world.wait_synced(None).await;
    let before = world.stored().await;
    assert_eq!(keys(&before), world.expected_initially());
    assert_eq!(world.lease().await, Some(("replica-a".to_string(), 0)));
    assert_eq!(a.finding_writes("create").await, 3.0);
    assert_eq!(a.readyz().await, 200);
    let sync_count = format!(
        "idgap_sync_duration_seconds_count{{kind=\"SalesforceIntegration\",namespace=\"{}\",name=\"{INTEGRATION}\"}}",
        world.ns
    );
    assert!(a.sample(&sync_count).await >= 1.0, "the leader synced");
    assert_eq!(b.sample(&sync_count).await, 0.0, "the standby did not sync");
    assert_eq!(
        b.finding_writes("create").await,
        0.0,
        "the standby wrote nothing"
    );
    assert_eq!(
        b.readyz().await,
        503,
        "the standby has not started controllers"
    );
    let events = world.integration_events().await;
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|(_, instance)| instance == "replica-a"),
        "only the leader reports: {events:?}"
    );

    // A slow sync; the leader dies in the middle of it.
    let token = "failover";
    let added = world.start_slow_sync("frank@acme.com", token).await;
    a.kill_hard();
    let killed = Instant::now();
    assert!(!a.alive());
    let at_kill = world.integrations().get(INTEGRATION).await.unwrap();
    let handled = at_kill
        .status
        .as_ref()
        .and_then(|s| s.last_handled_reconcile_at.clone());
    assert!(
        condition(&at_kill, "Reconciling").is_some_and(|c| c.status == "True")
            && handled.as_deref() != Some(token),
        "the leader died in the middle of the sync: {:?}",
        at_kill.status
    );
    assert_eq!(
        b.finding_writes("create").await,
        0.0,
        "the standby still wrote nothing"
    );
    world.fast_salesforce();

    // The standby takes the Lease once it expires and completes the sync.
    wait_holder(&world, "replica-b").await;
    let takeover = killed.elapsed();
    let recovered = world.wait_synced(Some(token)).await;
    let completed = killed.elapsed();
    assert!(last_success(&recovered) > last_success(&first));
    let after = world.stored().await;
    let mut expected = world.expected_with(added);
    assert_eq!(
        keys(&after),
        expected,
        "exactly the right findings, no duplicate"
    );
    assert_kept(
        &before,
        &after,
        "written by the old leader is kept as it was",
    );
    // The new leader (empty caches) created only the new finding and rewrote nothing.
    assert_eq!(b.finding_writes("create").await, 1.0);
    assert_eq!(b.finding_writes("update").await, 0.0);
    assert_eq!(b.finding_writes("delete").await, 0.0);
    assert_eq!(b.readyz().await, 200);
    assert!(b.alive());
    assert_eq!(world.lease().await, Some(("replica-b".to_string(), 1)));
    let events = world.integration_events().await;
    assert!(
        events.contains(&("FindingsChanged".to_string(), "replica-b".to_string())),
        "the new leader reported its sync: {events:?}"
    );
    assert!(
        events
            .iter()
            .all(|(_, instance)| instance == "replica-a" || instance == "replica-b"),
        "{events:?}"
    );

    // SIGTERM (what Kubernetes sends before stopping a pod) in the middle of a slow sync: the
    // leader stops taking work but finishes that sync, then exits cleanly.
    let drain = "drain-on-sigterm";
    let grace = world.start_slow_sync("grace@acme.com", drain).await;
    b.terminate();
    let terminated = Instant::now();
    let calls_at_sigterm = world.salesforce_calls();
    let status = eventually("replica-b to exit after SIGTERM", WAIT, || async {
        b.exit_status()
    })
    .await;
    let drained_in = terminated.elapsed();
    assert_eq!(status, "exit status: 0", "log:\n{}", b.log_text());
    assert!(
        b.log_lines()
            .iter()
            .any(|l| l["fields"]["message"] == "shutting down: finishing in-flight reconciles"),
        "{}",
        b.log_text()
    );
    assert!(
        world.salesforce_calls() > calls_at_sigterm,
        "the sync was still reading Salesforce when SIGTERM came"
    );
    world.fast_salesforce();
    // Nobody runs any more: whatever is stored was written by the drained sync.
    let drained = world.integrations().get(INTEGRATION).await.unwrap();
    assert_eq!(
        drained
            .status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref()),
        Some(drain),
        "the sync in flight at SIGTERM was finished: {:?}",
        drained.status
    );
    assert!(
        settled(&drained)
            && condition(&drained, "Ready")
                .is_some_and(|c| c.status == "True" && c.reason == "Succeeded"),
        "{:?}",
        drained.status
    );
    expected.insert(grace);
    assert_eq!(keys(&world.stored().await), expected);

    eprintln!(
        "failover: replica-b held the Lease {takeover:.1?} after the kill, the sync was \
         complete {completed:.1?} after it; after SIGTERM mid-sync replica-b finished the sync and \
         exited in {drained_in:.1?}; test ran {:.1?}",
        test_started.elapsed()
    );
}
