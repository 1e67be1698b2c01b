//! The Rust figure for docs/benchmarks.md: the same loop as bindings/c/bench/bench_evaluate.c,
//! calling the core directly (`Policy::evaluate_id` / `Policy::evaluate`), interleaved with the
//! same loop through this crate's C ABI functions (`sa_evaluate_id` / `sa_evaluate`), so that the
//! ratio holds even on a loaded machine.
//! Run: `cargo run -p support-access-c --release --example bench_rust [ITERATIONS]`.

use std::ffi::CString;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::time::Instant;

use support_access::{
    sa_add_cluster, sa_add_project, sa_cluster_id, sa_decision, sa_evaluate, sa_evaluate_id,
    sa_grant, sa_policy, sa_policy_free, sa_policy_new, sa_status, RawStatus,
};
use support_access_core::{
    Actor, ClusterKind, GrantType, Policy, PolicyOptions, Resource, Timestamp,
};

const CLUSTERS: usize = 1000;

fn main() -> Result<(), support_access_core::Error> {
    let iters: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let t0 = Timestamp::from_millis(1_795_860_000_000)?;
    let later = Timestamp::from_millis(1_795_860_000_000 + 3_600_000)?;
    let mut options = PolicyOptions::new("org-1");
    options.restrict_employee_access = true;
    let mut p = Policy::new(options)?;
    let owner = Actor::org_owner("alice")?;
    p.add_project(&owner, "p1", t0)?;
    let names: Vec<String> = (0..CLUSTERS).map(|i| format!("c{i}")).collect();
    let mut ids = Vec::with_capacity(CLUSTERS);
    for (i, name) in names.iter().enumerate() {
        p.add_cluster(&owner, "p1", name, ClusterKind::Dedicated, false, t0)?;
        if i % 2 == 0 {
            p.grant(&owner, name, GrantType::ClusterInfrastructure, t0, None)?;
        }
        ids.push(p.cluster_id(name).expect("just added"));
    }
    let resources = [
        Resource::Infrastructure,
        Resource::DatabaseLogs,
        Resource::AuditLogs,
    ];
    let later_ms = later.millis();

    // The same C ABI functions the C benchmark calls (not inlinable here either), interleaved
    // with the direct calls so that both see the same machine load.
    let options = c"{\"orgId\":\"org-1\",\"restrictEmployeeAccess\":true}";
    let owner_json = c"{\"id\":\"alice\",\"roles\":[{\"role\":\"ORG_OWNER\"}]}";
    let mut cp: *mut sa_policy = std::ptr::null_mut();
    let c_names: Vec<CString> = names
        .iter()
        .map(|n| CString::new(n.as_str()).expect("no NUL"))
        .collect();
    let mut c_ids = vec![0u32; CLUSTERS];
    // SAFETY: valid NUL-terminated strings and out-pointers; the policy is freed at the end.
    unsafe {
        ok(sa_policy_new(options.as_ptr(), &mut cp));
        ok(sa_add_project(
            cp,
            owner_json.as_ptr(),
            c"p1".as_ptr(),
            t0.millis(),
        ));
        for (i, n) in c_names.iter().enumerate() {
            ok(sa_add_cluster(
                cp,
                owner_json.as_ptr(),
                c"p1".as_ptr(),
                n.as_ptr(),
                0,
                false,
                t0.millis(),
            ));
            if i % 2 == 0 {
                ok(sa_grant(
                    cp,
                    owner_json.as_ptr(),
                    n.as_ptr(),
                    0,
                    t0.millis(),
                    false,
                    0,
                    std::ptr::null_mut(),
                ));
            }
            ok(sa_cluster_id(cp, n.as_ptr(), &mut c_ids[i]));
        }
    }
    let c_resources = [0u32, 1, 2];
    let mut best = [f64::MAX; 4];
    let mut allowed = 0usize;
    for _ in 0..5 {
        let start = Instant::now();
        for i in 0..iters {
            let d = p.evaluate_id(
                black_box(ids[i % CLUSTERS]),
                resources[i % 3],
                black_box(later),
            )?;
            allowed += usize::from(d.allowed);
        }
        best[0] = best[0].min(start.elapsed().as_nanos() as f64 / iters as f64);
        let mut d = MaybeUninit::<sa_decision>::uninit();
        let start = Instant::now();
        for i in 0..iters {
            // SAFETY: live policy, valid out-pointer.
            ok(unsafe {
                sa_evaluate_id(
                    cp,
                    c_ids[i % CLUSTERS],
                    c_resources[i % 3],
                    black_box(later_ms),
                    d.as_mut_ptr(),
                )
            });
            // SAFETY: written on SA_OK.
            allowed += usize::from(unsafe { d.assume_init() }.allowed);
        }
        best[1] = best[1].min(start.elapsed().as_nanos() as f64 / iters as f64);
        let start = Instant::now();
        for i in 0..iters {
            let d = p.evaluate(
                black_box(&names[i % CLUSTERS]),
                resources[i % 3],
                black_box(later),
            )?;
            allowed += usize::from(d.allowed);
        }
        best[2] = best[2].min(start.elapsed().as_nanos() as f64 / iters as f64);
        let start = Instant::now();
        for i in 0..iters {
            // SAFETY: live policy, NUL-terminated name, valid out-pointer.
            ok(unsafe {
                sa_evaluate(
                    cp,
                    c_names[i % CLUSTERS].as_ptr(),
                    c_resources[i % 3],
                    black_box(later_ms),
                    d.as_mut_ptr(),
                )
            });
            // SAFETY: written on SA_OK.
            allowed += usize::from(unsafe { d.assume_init() }.allowed);
        }
        best[3] = best[3].min(start.elapsed().as_nanos() as f64 / iters as f64);
    }
    // SAFETY: from sa_policy_new, freed once.
    unsafe { sa_policy_free(cp) };
    println!("best of 5 rounds of {iters} ({allowed} allowed):");
    println!(
        "  by id:   Rust evaluate_id {:.1} ns/op, C ABI sa_evaluate_id {:.1} ns/op ({:.2}x)",
        best[0],
        best[1],
        best[1] / best[0]
    );
    println!(
        "  by name: Rust evaluate    {:.1} ns/op, C ABI sa_evaluate    {:.1} ns/op ({:.2}x)",
        best[2],
        best[3],
        best[3] / best[2]
    );
    Ok(())
}

fn ok(s: RawStatus) {
    assert_eq!(s, sa_status::SA_OK as RawStatus, "C ABI call failed");
}
