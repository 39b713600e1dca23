//! What the user asked for: one Service or all with a problem, where, and from which client.

use kube_runbook::{Error, selector::LabelQuery};

/// A pod named on the command line, `POD` or `NAMESPACE/POD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodName {
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub service: Option<String>,
    /// None: every namespace (`-A`).
    pub namespace: Option<String>,
    pub from: Option<PodName>,
    pub labels: LabelQuery,
}

impl Request {
    /// Validates the command line: `SERVICE` (or `svc/SERVICE`), `--from [NS/]POD`, `-l`.
    pub fn new(
        service: Option<&str>,
        from: Option<&str>,
        selector: Option<&str>,
        namespace: Option<String>,
    ) -> Result<Request, Error> {
        let service = service.map(service_name).transpose()?;
        if service.is_some() && namespace.is_none() {
            return Err(Error::Usage(
                "a Service name needs one namespace: use -n NAMESPACE instead of -A".into(),
            ));
        }
        let from = from
            .map(|text| pod_name(text, namespace.as_deref()))
            .transpose()?;
        let labels = LabelQuery::parse(selector.unwrap_or_default())?;
        Ok(Request {
            service,
            namespace,
            from,
            labels,
        })
    }

    /// The namespace to name in messages: `shop`, or `all namespaces`.
    pub fn scope(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("namespace {ns}"),
            None => "all namespaces".to_string(),
        }
    }
}

fn service_name(text: &str) -> Result<String, Error> {
    let name = match text.split_once('/') {
        None => text,
        Some(("svc" | "service" | "services", name)) => name,
        Some((kind, _)) => {
            return Err(Error::Usage(format!(
                "svc-check checks Services: give NAME or svc/NAME, not {kind}/..."
            )));
        }
    };
    if name.is_empty() {
        return Err(Error::Usage("the Service name is empty".into()));
    }
    Ok(name.to_string())
}

fn pod_name(text: &str, namespace: Option<&str>) -> Result<PodName, Error> {
    let text = text
        .strip_prefix("pod/")
        .or_else(|| text.strip_prefix("pods/"))
        .unwrap_or(text);
    match (text.split_once('/'), namespace) {
        (Some((ns, name)), _) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(PodName {
                namespace: ns.to_string(),
                name: name.to_string(),
            })
        }
        (None, Some(ns)) if !text.is_empty() => Ok(PodName {
            namespace: ns.to_string(),
            name: text.to_string(),
        }),
        (None, None) => Err(Error::Usage("with -A, give --from as NAMESPACE/POD".into())),
        _ => Err(Error::Usage(format!(
            "--from {text}: expected POD or NAMESPACE/POD"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use kube_runbook::exit_code;

    use super::*;

    #[test]
    fn accepts_names_and_svc_prefixes() {
        let request =
            Request::new(Some("svc/web"), Some("client"), None, Some("shop".into())).unwrap();
        assert_eq!(request.service.as_deref(), Some("web"));
        assert_eq!(
            request.from,
            Some(PodName {
                namespace: "shop".into(),
                name: "client".into()
            })
        );
        let cross = Request::new(None, Some("other/pod/x"), None, None);
        assert!(cross.is_err(), "other/pod/x is not a pod name");
        let cross = Request::new(None, Some("pod/other/x"), None, None).unwrap();
        assert_eq!(cross.from.unwrap().namespace, "other");
    }

    #[test]
    fn rejects_what_cannot_work() {
        let err = Request::new(Some("deploy/web"), None, None, Some("shop".into())).unwrap_err();
        assert_eq!(err.exit_code(), exit_code::USAGE);
        let err = Request::new(Some("web"), None, None, None).unwrap_err();
        assert!(err.to_string().contains("-n NAMESPACE"), "{err}");
        let err = Request::new(None, Some("client"), None, None).unwrap_err();
        assert!(err.to_string().contains("NAMESPACE/POD"), "{err}");
        assert!(Request::new(None, None, Some("env in prod"), None).is_err());
    }
}
