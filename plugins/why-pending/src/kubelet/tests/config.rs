use serde_json::json;

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{codes, event, find, object, pod, state, text};

fn config_error_pod(
    message: &str,
    container: serde_json::Value,
) -> k8s_openapi::api::core::v1::Pod {
    pod(json!({
        "spec": {"containers": [container]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "CreateContainerConfigError", "message": message}}}]}
    }))
}

#[test]
fn a_missing_config_map_key_is_named_with_the_keys_that_exist() {
    let mut state = state();
    state.config_maps.push(object(
        json!({"metadata": {"name": "app-config", "namespace": "shop"}, "data": {"LEVEL": "info"}}),
    ));
    let pod = config_error_pod(
        "couldn't find key LOG_LEVEL in ConfigMap shop/app-config",
        json!({"name": "web", "image": "x:1", "env": [
            {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}},
            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "X", "optional": true}}}
        ]}),
    );
    let findings = analyse(&pod, &state);
    assert_eq!(
        codes(&findings),
        vec!["config-map-key-not-found"],
        "the optional reference does not count"
    );
    let missing = &findings[0];
    assert_eq!(missing.details["name"], "app-config");
    assert_eq!(missing.details["key"], "LOG_LEVEL");
    assert_eq!(
        missing.details["path"],
        "spec.containers[0].env[0].valueFrom.configMapKeyRef"
    );
    let all = text(missing);
    assert!(all.contains("keys: LEVEL"), "{all}");
    assert!(
        all.contains("kubectl patch configmap app-config -n shop"),
        "{all}"
    );
}

#[test]
fn a_missing_secret_from_env_from() {
    let state = state();
    let pod = config_error_pod(
        "secret \"db\" not found",
        json!({"name": "web", "image": "x:1", "envFrom": [{"secretRef": {"name": "db"}}]}),
    );
    let findings = analyse(&pod, &state);
    let missing = find(&findings, "secret-not-found");
    assert_eq!(missing.details["container"], "web");
    assert!(text(missing).contains("kubectl create secret generic db -n shop"));
}

#[test]
fn unreadable_secrets_fall_back_to_the_kubelets_message() {
    let mut state = state();
    state.loaded.remove(&kube_runbook::state::Kind::Secret);
    let pod = config_error_pod(
        "couldn't find key password in Secret shop/db",
        json!({"name": "web", "image": "x:1", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}),
    );
    let findings = analyse(&pod, &state);
    let missing = find(&findings, "secret-key-not-found");
    assert!(
        text(missing).contains("secrets were not loaded"),
        "{}",
        text(missing)
    );
}

#[test]
fn a_config_map_volume_keeps_the_pod_in_container_creating() {
    let mut state = state();
    state.events.push(event(
        "FailedMount",
        "MountVolume.SetUp failed for volume \"cfg\" : configmap \"nginx-conf\" not found",
        None,
    ));
    let pod = pod(json!({
        "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "nginx-conf"}}, {"name": "opt", "configMap": {"name": "x", "optional": true}}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
    }));
    let findings = analyse(&pod, &state);
    assert_eq!(codes(&findings), vec!["config-map-not-found"]);
    assert_eq!(findings[0].details["volume"], "cfg");
    assert!(text(&findings[0]).contains("MountVolume.SetUp failed"));
}

#[test]
fn other_config_errors_keep_the_kubelets_words() {
    let state = state();
    let pod = config_error_pod(
        "container has runAsNonRoot and image will run as root (pod: \"web-1_shop(u-1)\", container: web)",
        json!({"name": "web", "image": "x:1"}),
    );
    let findings = analyse(&pod, &state);
    let error = find(&findings, "container-config-error");
    assert!(text(error).contains("runAsUser: 1000"));
}

#[test]
fn a_command_that_does_not_exist() {
    let state = state();
    let pod = pod(json!({
        "spec": {"containers": [{"name": "web", "image": "x:1", "command": ["/app/server"]}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "RunContainerError", "message": "exec: \"/app/server\": stat /app/server: no such file or directory"}}}]}
    }));
    let findings = analyse(&pod, &state);
    let start = find(&findings, "container-start-failed");
    assert!(start.explanation.contains("does not exist in the image"));
    assert!(text(start).contains("command: /app/server"));
}
