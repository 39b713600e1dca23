//! What the cluster provides to every Service, detected once per run: the cluster DNS, the
//! service proxy, NetworkPolicies and their enforcer, load-balancer controllers.

use crate::{
    analyse::{
        dns::ClusterDns, load_balancer::LoadBalancers, network_policy::Policies,
        proxy::ServiceProxy,
    },
    index::Index,
};

pub struct Infrastructure<'a> {
    pub dns: ClusterDns<'a>,
    pub proxy: ServiceProxy<'a>,
    pub policies: Policies<'a>,
    pub load_balancers: LoadBalancers<'a>,
}

impl<'a> Infrastructure<'a> {
    pub fn detect(index: &Index<'a>) -> Infrastructure<'a> {
        Infrastructure {
            dns: ClusterDns::detect(index),
            proxy: ServiceProxy::detect(index),
            policies: Policies::compile(index),
            load_balancers: LoadBalancers::detect(index),
        }
    }
}
