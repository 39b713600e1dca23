//! The pod given with `--from`: the source whose DNS settings, egress policies and namespace
//! decide whether its requests get through.

use k8s_openapi::api::core::v1::Pod;

use crate::{index::Index, labels::Labels, pods};

pub struct ClientPod<'a> {
    pub pod: &'a Pod,
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: &'a Labels,
    /// None when namespaces could not be read.
    pub namespace_labels: Option<&'a Labels>,
    pub ip: Option<&'a str>,
    pub node: Option<&'a str>,
}

impl<'a> ClientPod<'a> {
    pub fn new(index: &Index<'a>, pod: &'a Pod) -> ClientPod<'a> {
        let namespace = pods::namespace(pod);
        ClientPod {
            pod,
            namespace,
            name: pods::name(pod),
            labels: pods::labels(pod),
            namespace_labels: index.namespace_labels(namespace),
            ip: pods::ip(pod),
            node: pods::node(pod),
        }
    }

    /// `ns/name`, as shown in the verdict.
    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}
