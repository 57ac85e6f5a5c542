//! The load balancers moto stores, listening for real: each gets its own loopback address
//! (never a task's), named by its DNS name in /etc/hosts, with a listener bound there on
//! each of its listeners' ports, answering by the listener's rules as last read (HTTPS ones with a self-signed certificate for the DNS
//! name, [`super::tls`]). A name Route 53 aliases to a load balancer (the user's domain)
//! leads there too. A rule the stand-in changes itself (a blue/green traffic shift) is
//! followed at once, not at the next read of moto's. Answering a request is [`super::forwarding`]'s work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_elasticloadbalancingv2::types::Rule;

use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::forwarding::serve;
use super::hosts::HostsFile;
use super::rules::Routes;
use super::targets::TargetGroups;
use super::tls;

/// A load balancer as moto describes it, with its listeners and their rules.
pub(super) struct Seen {
    pub arn: String,
    pub dns: String,
    pub listeners: Vec<Routes>,
}

struct Bound {
    listener: Arc<Mutex<Routes>>,
    accept: JoinHandle<()>,
    https: bool,
}

struct Balancer {
    dns: String,
    ip: String,
    /// For HTTPS listeners, made when the first one is bound.
    tls: Option<TlsAcceptor>,
    /// By port.
    bound: HashMap<i32, Bound>,
}

pub(super) struct Balancers {
    balancers: HashMap<String, Balancer>,
    /// Names that Route 53 aliases to a load balancer → the loopback IP written for them.
    aliases: HashMap<String, String>,
    hosts: HostsFile,
    /// Rules the stand-in changed, by ARN, and when: a read of moto's from before then
    /// does not undo them.
    followed: HashMap<String, (Rule, Instant)>,
}

impl Balancers {
    pub fn new() -> Self {
        Self {
            balancers: HashMap::new(),
            aliases: HashMap::new(),
            hosts: HostsFile::system(),
            followed: HashMap::new(),
        }
    }

    /// Answers by `rule` (changed in moto by the stand-in) from now on.
    pub fn follow_rule(&mut self, rule: &Rule) {
        let Some(arn) = rule.rule_arn() else {
            return;
        };
        for bound in self.balancers.values().flat_map(|b| b.bound.values()) {
            let mut routes = bound.listener.lock().expect("listener");
            for r in routes
                .rules
                .iter_mut()
                .filter(|r| r.rule_arn() == Some(arn))
            {
                *r = rule.clone();
            }
        }
        self.followed
            .insert(arn.to_owned(), (rule.clone(), Instant::now()));
    }

    /// The loopback address the load balancer named `dns` listens on.
    pub fn address(&self, dns: &str) -> Option<String> {
        self.balancers
            .values()
            .find(|b| b.dns.eq_ignore_ascii_case(dns))
            .map(|b| b.ip.clone())
    }

    /// Listens as `seen` (read at `read_at`) says: new load balancers and listeners bound,
    /// changed listeners followed, deleted ones closed.
    pub fn reconcile(
        &mut self,
        mut seen: Vec<Seen>,
        groups: &Arc<Mutex<TargetGroups>>,
        read_at: Instant,
    ) {
        self.followed.retain(|_, (_, at)| *at >= read_at);
        for rule in seen
            .iter_mut()
            .flat_map(|s| s.listeners.iter_mut())
            .flat_map(|l| l.rules.iter_mut())
        {
            if let Some((followed, _)) = rule.rule_arn().and_then(|arn| self.followed.get(arn)) {
                *rule = followed.clone();
            }
        }
        let gone: Vec<String> = self
            .balancers
            .keys()
            .filter(|arn| !seen.iter().any(|s| &s.arn == *arn))
            .cloned()
            .collect();
        for arn in gone {
            if let Some(balancer) = self.balancers.remove(&arn) {
                self.aliases.retain(|name, ip| {
                    let aliased = *ip == balancer.ip;
                    if aliased {
                        self.hosts.remove(name);
                    }
                    !aliased
                });
                close(balancer, &mut self.hosts);
            }
        }
        for lb in seen {
            let balancer = self.balancers.entry(lb.arn).or_insert_with(|| {
                let ip = super::next_public_ip();
                self.hosts.set(&ip, &lb.dns);
                Balancer {
                    dns: lb.dns.clone(),
                    ip,
                    tls: None,
                    bound: HashMap::new(),
                }
            });
            self.hosts.keep(&balancer.ip, &balancer.dns);
            let ports: Vec<i32> = lb
                .listeners
                .iter()
                .filter_map(|l| l.listener.port())
                .collect();
            balancer.bound.retain(|port, bound| {
                let keep = ports.contains(port);
                if !keep {
                    bound.accept.abort();
                }
                keep
            });
            for listener in lb.listeners {
                let Some(port) = listener.listener.port() else {
                    continue;
                };
                let https = match listener.listener.protocol().map(|p| p.as_str()) {
                    Some("HTTPS") => true,
                    Some("HTTP") | None => false,
                    Some(_) => continue,
                };
                match balancer.bound.get(&port) {
                    Some(bound) if bound.https == https => {
                        *bound.listener.lock().expect("listener") = listener;
                        continue;
                    }
                    Some(changed) => changed.accept.abort(),
                    None => {}
                }
                if https && balancer.tls.is_none() {
                    match tls::acceptor(&balancer.dns) {
                        Ok(acceptor) => balancer.tls = Some(acceptor),
                        Err(e) => {
                            tracing::warn!("no certificate for {}: {e}", balancer.dns);
                            continue;
                        }
                    }
                }
                let tls = balancer.tls.clone().filter(|_| https);
                let listener = Arc::new(Mutex::new(listener));
                match listen(&balancer.ip, port, listener.clone(), groups.clone(), tls) {
                    Ok(accept) => {
                        balancer.bound.insert(
                            port,
                            Bound {
                                listener,
                                accept,
                                https,
                            },
                        );
                    }
                    Err(e) => {
                        balancer.bound.remove(&port);
                        tracing::warn!("the stand-in cannot listen on {}:{port}: {e}", balancer.ip)
                    }
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.balancers.is_empty()
    }

    /// Sends each name that `records` (name, alias target) alias to one of the load
    /// balancers to its address, as Route 53 would resolve it; names no longer aliased are
    /// forgotten.
    pub fn follow_aliases(&mut self, records: &[(String, String)]) {
        let plain = |name: &str| name.trim_end_matches('.').to_ascii_lowercase();
        let mut wanted = HashMap::new();
        for (name, target) in records {
            let target = plain(target);
            let target = target.strip_prefix("dualstack.").unwrap_or(&target);
            if let Some(b) = self
                .balancers
                .values()
                .find(|b| b.dns.eq_ignore_ascii_case(target))
            {
                wanted.insert(plain(name), b.ip.clone());
            }
        }
        for (name, ip) in &wanted {
            if self.aliases.get(name) != Some(ip) {
                self.hosts.set(ip, name);
            }
        }
        for name in self.aliases.keys() {
            if !wanted.contains_key(name) {
                self.hosts.remove(name);
            }
        }
        self.aliases = wanted;
    }

    /// Stops listening and removes the hosts lines.
    pub fn close_all(&mut self) {
        for (_, balancer) in self.balancers.drain() {
            close(balancer, &mut self.hosts);
        }
        self.aliases.clear();
        self.hosts.remove_all();
    }
}

fn close(balancer: Balancer, hosts: &mut HostsFile) {
    for bound in balancer.bound.values() {
        bound.accept.abort();
    }
    hosts.remove(&balancer.dns);
}

fn listen(
    ip: &str,
    port: i32,
    listener: Arc<Mutex<Routes>>,
    groups: Arc<Mutex<TargetGroups>>,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<JoinHandle<()>> {
    let socket = std::net::TcpListener::bind((ip, port as u16))?;
    socket.set_nonblocking(true)?;
    let socket = tokio::net::TcpListener::from_std(socket)?;
    Ok(tokio::spawn(async move {
        while let Ok((client, peer)) = socket.accept().await {
            let listener = listener.lock().expect("listener").clone();
            let groups = groups.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let _ = match tls {
                    Some(tls) => match tls.accept(client).await {
                        Ok(client) => serve(client, peer, &listener, &groups).await,
                        Err(_) => Ok(()),
                    },
                    None => serve(client, peer, &listener, &groups).await,
                };
            });
        }
    }))
}
