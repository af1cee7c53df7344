//! kube-apiserver stays down for longer than the leader Lease: the leader cannot renew, gives
//! the Lease up and exits (so that Kubernetes restarts it); the standby takes the Lease once
//! the API server is back and does the work.

use std::time::Instant;

use crate::operator_process::{Launch, OperatorProcess};
use crate::support::{Cluster, eventually};
use crate::world::{WAIT, World, keys};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_that_cannot_renew_exits_and_the_standby_takes_over() {
    let _one = crate::ONE_AT_A_TIME.lock().await;
    let test_started = Instant::now();
    let cluster = Cluster::dedicated("lease-loss").await;
    let world = World::start(&cluster, "recovery-lease-loss").await;
    let launch = |instance| Launch {
        instance,
        kubeconfig: cluster.kubeconfig_path(),
        namespace: &world.ns,
        leader_election: true,
        log_dir: cluster.scratch_dir(),
    };
    let a = OperatorProcess::start(launch("replica-a")).await;
    eventually("replica-a to hold the Lease", WAIT, || async {
        let (holder, _) = world.lease().await?;
        (holder == "replica-a").then_some(())
    })
    .await;
    let b = OperatorProcess::start(launch("replica-b")).await;
    world.wait_synced(None).await;
    let before = world.stored().await;
    assert_eq!(keys(&before), world.expected_initially());

    // The API server goes away for longer than the Lease (15 s).
    cluster.kill_apiserver();
    let killed = Instant::now();
    let status = eventually(
        "replica-a to give up after failing to renew the Lease",
        WAIT,
        || async { a.exit_status() },
    )
    .await;
    let gave_up = killed.elapsed();
    assert_eq!(status, "exit status: 2", "log:\n{}", a.log_text());
    let log = a.log_text();
    assert!(
        log.contains("could not renew the leader lease")
            && log.contains("error: lost the leader lease `idgap-operator`"),
        "replica-a says why it stopped:\n{log}"
    );
    assert!(
        b.alive(),
        "the standby keeps trying while the API server is down"
    );
    let restart_took = cluster.start_apiserver().await;

    // The standby takes the expired Lease and works: a change and a requested sync.
    eventually("replica-b to hold the Lease", WAIT, || async {
        let (holder, transitions) = world.lease().await?;
        (holder == "replica-b").then_some(transitions)
    })
    .await;
    let took_over = killed.elapsed();
    assert_eq!(world.lease().await, Some(("replica-b".to_string(), 1)));
    let added = world.add_user_missing_from_idp("frank@acme.com");
    let token = "after-lease-loss";
    world.request_sync(token).await;
    world.wait_synced(Some(token)).await;
    assert_eq!(keys(&world.stored().await), world.expected_with(added));
    assert_eq!(b.finding_writes("create").await, 1.0);
    assert_eq!(b.finding_writes("update").await, 0.0);
    assert_eq!(b.finding_writes("delete").await, 0.0);
    assert!(b.alive());
    eprintln!(
        "lease loss: replica-a exited {gave_up:.1?} after the kill; kube-apiserver restarted in \
         {restart_took:.1?}; replica-b held the Lease {took_over:.1?} after the kill; test ran \
         {:.1?}",
        test_started.elapsed()
    );
}
