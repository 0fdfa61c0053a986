//! Directory latency benchmark (not a test): p50/p99 of find + unlock + reset through the adapter,
//! next to the same LDAP operations sent by a minimal direct ldap3 client, against the harness's real
//! slapd and Samba AD DC in the same run. Prints the adapter / floor ratio (target ≤ 1.2×).
//!
//! Run: `cargo bench --bench directory` (as root: Samba needs it). `SSPR_BENCH_ITERATIONS` sets the
//! number of iterations per operation (default 200).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "a benchmark binary: fail loudly, print results"
)]

#[path = "../tests/integration/directory_support.rs"]
mod directory_support;
#[allow(
    unused_imports,
    reason = "the harness's own unit tests are not run from a benchmark"
)]
#[path = "../tests/integration/harness/mod.rs"]
mod harness;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope};
use sspr_kiosk::config::kiosk::{Flavour, HistoryOnReset};
use sspr_kiosk::directory::{Directory, Dn, Lookup};
use sspr_kiosk::secret::Secret;

use directory_support::{Target, connect, samba_target, settings, slapd_target};

struct Sample {
    find: Vec<Duration>,
    unlock: Vec<Duration>,
    reset: Vec<Duration>,
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The floor: the same LDAP operations the adapter sends, on one connection, with no error mapping,
/// session management or record building.
async fn direct_client(target: &Target<'_>, login: &str, dn: &str, iterations: usize) -> Sample {
    let s = settings(target);
    let tls = sspr_kiosk::directory::tls::client_config(target.ca_file.unwrap()).unwrap();
    let conn_settings = LdapConnSettings::new().set_config(Arc::clone(&tls));
    let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &target.urls[0])
        .await
        .unwrap();
    tokio::spawn(async move { conn.drive().await });
    ldap.simple_bind(target.bind_dn, target.bind_password)
        .await
        .unwrap()
        .success()
        .unwrap();
    let attrs = user_attributes(target.flavour, &s.attributes);
    let filter = sspr_kiosk::directory::filter::any_attribute_equals(
        &s.user_filter,
        &s.attributes.identifiers,
        login,
    );
    let mut sample = Sample {
        find: vec![],
        unlock: vec![],
        reset: vec![],
    };
    for i in 0..iterations {
        let start = Instant::now();
        direct_find(&mut ldap, target.flavour, &s.base_dn, &filter, &attrs, dn).await;
        sample.find.push(start.elapsed());

        let start = Instant::now();
        match target.flavour {
            Flavour::ActiveDirectory => {
                let mods = vec![Mod::Replace(
                    b"lockoutTime".to_vec(),
                    HashSet::from([b"0".to_vec()]),
                )];
                ldap.modify(dn, mods).await.unwrap().success().unwrap();
            }
            Flavour::Openldap => {
                let mods = vec![Mod::Delete(
                    b"pwdAccountLockedTime".to_vec(),
                    HashSet::new(),
                )];
                ldap.modify(dn, mods).await.unwrap();
            }
        }
        sample.unlock.push(start.elapsed());

        let password = format!("Direct#{i}-{}", rand_suffix());
        let start = Instant::now();
        match target.flavour {
            Flavour::ActiveDirectory => {
                let value = sspr_kiosk::directory::ad::unicode_pwd(&password);
                let mods = vec![Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([value]))];
                ldap.modify(dn, mods).await.unwrap().success().unwrap();
            }
            Flavour::Openldap => {
                let ppolicy = RawControl {
                    ctype: sspr_kiosk::directory::openldap::PPOLICY_OID.into(),
                    crit: false,
                    val: None,
                };
                let request = PasswordModify {
                    user_id: Some(dn),
                    old_pass: None,
                    new_pass: Some(&password),
                };
                ldap.with_controls(ppolicy)
                    .extended(request)
                    .await
                    .unwrap()
                    .success()
                    .unwrap();
            }
        }
        sample.reset.push(start.elapsed());
    }
    sample
}

async fn direct_find(
    ldap: &mut Ldap,
    flavour: Flavour,
    base: &str,
    filter: &str,
    attrs: &[String],
    dn: &str,
) {
    let (entries, _) = ldap
        .search(base, Scope::Subtree, filter, attrs.to_vec())
        .await
        .unwrap()
        .success()
        .unwrap();
    assert!(!entries.is_empty());
    let escaped = sspr_kiosk::directory::filter::escape(dn);
    match flavour {
        Flavour::ActiveDirectory => {
            ldap.search(
                dn,
                Scope::Base,
                "(objectClass=*)",
                vec!["msDS-User-Account-Control-Computed"],
            )
            .await
            .unwrap();
            let groups = format!("(member:1.2.840.113556.1.4.1941:={escaped})");
            ldap.search(base, Scope::Subtree, &groups, vec!["1.1"])
                .await
                .unwrap();
        }
        Flavour::Openldap => {
            let groups = format!("(|(member={escaped})(uniqueMember={escaped}))");
            ldap.search(base, Scope::Subtree, &groups, vec!["1.1"])
                .await
                .unwrap();
        }
    }
}

fn user_attributes(
    flavour: Flavour,
    a: &sspr_kiosk::config::kiosk::AttributesSection,
) -> Vec<String> {
    let mut attrs = a.identifiers.clone();
    attrs.extend([a.display_name.clone(), a.registration.clone()]);
    attrs.extend(a.email.iter().cloned());
    attrs.extend(a.mobile.iter().cloned());
    attrs.extend(a.badge.iter().cloned());
    match flavour {
        Flavour::ActiveDirectory => {
            attrs.extend(["userAccountControl", "lockoutTime", "adminCount"].map(String::from))
        }
        Flavour::Openldap => attrs.push("pwdAccountLockedTime".to_owned()),
    }
    attrs
}

fn rand_suffix() -> u64 {
    use rand::Rng as _;
    rand::rng().random()
}

fn through_adapter(target: &Target<'_>, login: &str, dn: &str, iterations: usize) -> Sample {
    let directory = connect(target);
    let dn = Dn::new(dn);
    let mut sample = Sample {
        find: vec![],
        unlock: vec![],
        reset: vec![],
    };
    directory
        .run(|d| d.find_user(Lookup::Identifier(login)))
        .unwrap()
        .unwrap(); // warm the session
    for i in 0..iterations {
        let start = Instant::now();
        directory
            .run(|d| d.find_user(Lookup::Identifier(login)))
            .unwrap()
            .unwrap();
        sample.find.push(start.elapsed());
        let start = Instant::now();
        directory.run(|d| d.unlock(&dn)).unwrap();
        sample.unlock.push(start.elapsed());
        let password = Secret::new(format!("Adapter#{i}-{}", rand_suffix()));
        let start = Instant::now();
        directory
            .run(|d| d.reset_password(&dn, &password, false))
            .unwrap();
        sample.reset.push(start.elapsed());
    }
    sample
}

fn report(name: &str, adapter: &Sample, floor: &Sample) -> f64 {
    let mut worst: f64 = 0.0;
    for (op, a, f) in [
        ("find", &adapter.find, &floor.find),
        ("unlock", &adapter.unlock, &floor.unlock),
        ("reset", &adapter.reset, &floor.reset),
    ] {
        let (a50, a99, f50, f99) = (
            percentile(a, 0.5),
            percentile(a, 0.99),
            percentile(f, 0.5),
            percentile(f, 0.99),
        );
        let ratio = ms(a50) / ms(f50);
        worst = worst.max(ratio);
        println!(
            "{name:<8} {op:<7} adapter p50 {:>7.2} ms  p99 {:>7.2} ms | direct p50 {:>7.2} ms  p99 {:>7.2} ms | p50 ratio {ratio:.2}x  p99 ratio {:.2}x",
            ms(a50),
            ms(a99),
            ms(f50),
            ms(f99),
            ms(a99) / ms(f99)
        );
    }
    worst
}

fn main() {
    let iterations: usize = std::env::var("SSPR_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!("directory benchmark: {iterations} iterations per operation");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let server = harness::slapd::slapd();
    let user = server.create_user("bench");
    let target = slapd_target(server);
    let adapter = through_adapter(&target, &user.login, &user.dn, iterations);
    let floor = runtime.block_on(direct_client(&target, &user.login, &user.dn, iterations));
    let slapd_worst = report("slapd", &adapter, &floor);

    let dc = harness::samba::samba();
    let user = dc.create_user("bench");
    let target = samba_target(dc, HistoryOnReset::BestEffort);
    let adapter = through_adapter(&target, &user.login, &user.dn, iterations);
    let floor = runtime.block_on(direct_client(&target, &user.login, &user.dn, iterations));
    let samba_worst = report("samba", &adapter, &floor);

    println!(
        "worst p50 ratio (adapter / direct): slapd {slapd_worst:.2}x, samba {samba_worst:.2}x (target ≤ 1.2x)"
    );
}
