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
/// session management, timeouts or record building.
struct DirectClient {
    ldap: Ldap,
    flavour: Flavour,
    base: String,
    filter: String,
    attrs: Vec<String>,
    dn: String,
}

impl DirectClient {
    async fn connect(target: &Target<'_>, login: &str, dn: &str) -> DirectClient {
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
        DirectClient {
            ldap,
            flavour: target.flavour,
            filter: sspr_kiosk::directory::filter::any_attribute_equals(
                &s.user_filter,
                &s.attributes.identifiers,
                login,
            ),
            attrs: user_attributes(target.flavour, &s.attributes),
            base: s.base_dn,
            dn: dn.to_owned(),
        }
    }

    async fn find(&mut self) {
        let (flavour, base, filter, attrs, dn) = (
            self.flavour,
            self.base.clone(),
            self.filter.clone(),
            self.attrs.clone(),
            self.dn.clone(),
        );
        direct_find(&mut self.ldap, flavour, &base, &filter, &attrs, &dn).await;
    }

    async fn unlock(&mut self) {
        match self.flavour {
            Flavour::ActiveDirectory => {
                let mods = vec![Mod::Replace(
                    b"lockoutTime".to_vec(),
                    HashSet::from([b"0".to_vec()]),
                )];
                self.ldap
                    .modify(&self.dn, mods)
                    .await
                    .unwrap()
                    .success()
                    .unwrap();
            }
            Flavour::Openldap => {
                let mods = vec![Mod::Delete(
                    b"pwdAccountLockedTime".to_vec(),
                    HashSet::new(),
                )];
                self.ldap.modify(&self.dn, mods).await.unwrap();
            }
        }
    }

    async fn reset(&mut self, password: &str) {
        match self.flavour {
            Flavour::ActiveDirectory => {
                let value = sspr_kiosk::directory::ad::unicode_pwd(password);
                let mods = vec![Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([value]))];
                self.ldap
                    .modify(&self.dn, mods)
                    .await
                    .unwrap()
                    .success()
                    .unwrap();
            }
            Flavour::Openldap => {
                let ppolicy = RawControl {
                    ctype: sspr_kiosk::directory::openldap::PPOLICY_OID.into(),
                    crit: false,
                    val: None,
                };
                let request = PasswordModify {
                    user_id: Some(&self.dn),
                    old_pass: None,
                    new_pass: Some(password),
                };
                self.ldap
                    .with_controls(ppolicy)
                    .extended(request)
                    .await
                    .unwrap()
                    .success()
                    .unwrap();
            }
        }
    }
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

/// Adapter and direct client on the same runtime, operation by operation, alternating which goes
/// first, so server-side warm-up and ordering effects fall on both alike.
fn measure(target: &Target<'_>, login: &str, dn: &str, iterations: usize) -> (Sample, Sample) {
    let directory = connect(target);
    let user = Dn::new(dn);
    let mut direct = directory
        .rt
        .block_on(DirectClient::connect(target, login, dn));
    let new = || Sample {
        find: vec![],
        unlock: vec![],
        reset: vec![],
    };
    let (mut a, mut f) = (new(), new());
    directory
        .run(|d| d.find_user(Lookup::Identifier(login)))
        .unwrap()
        .unwrap(); // warm the session
    let time = |run: &mut dyn FnMut()| {
        let start = Instant::now();
        run();
        start.elapsed()
    };
    for i in 0..iterations {
        let adapter_first = i % 2 == 0;
        for turn in [adapter_first, !adapter_first] {
            if turn {
                a.find.push(time(&mut || {
                    directory
                        .run(|d| d.find_user(Lookup::Identifier(login)))
                        .unwrap()
                        .unwrap();
                }));
                a.unlock
                    .push(time(&mut || directory.run(|d| d.unlock(&user)).unwrap()));
                let password = Secret::new(format!("Adapter#{i}-{}", rand_suffix()));
                a.reset.push(time(&mut || {
                    directory
                        .run(|d| d.reset_password(&user, &password, false))
                        .unwrap();
                }));
            } else {
                f.find
                    .push(time(&mut || directory.rt.block_on(direct.find())));
                f.unlock
                    .push(time(&mut || directory.rt.block_on(direct.unlock())));
                let password = format!("Direct#{i}-{}", rand_suffix());
                f.reset
                    .push(time(&mut || directory.rt.block_on(direct.reset(&password))));
            }
        }
    }
    (a, f)
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

    let server = harness::slapd::slapd();
    let user = server.create_user("bench");
    let (adapter, floor) = measure(&slapd_target(server), &user.login, &user.dn, iterations);
    let slapd_worst = report("slapd", &adapter, &floor);

    let dc = harness::samba::samba();
    let user = dc.create_user("bench");
    let target = samba_target(dc, HistoryOnReset::BestEffort);
    let (adapter, floor) = measure(&target, &user.login, &user.dn, iterations);
    let samba_worst = report("samba", &adapter, &floor);

    println!(
        "worst p50 ratio (adapter / direct): slapd {slapd_worst:.2}x, samba {samba_worst:.2}x (target ≤ 1.2x)"
    );
}
