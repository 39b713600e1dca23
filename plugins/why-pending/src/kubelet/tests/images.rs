use serde_json::{Value, json};

use crate::kubelet::analyse;
use crate::kubelet::fixtures::{event, find, object, pod, state, text};

fn waiting(reason: &str, message: &str, extra: Value) -> k8s_openapi::api::core::v1::Pod {
    let mut changes = json!({"status": {"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "",
        "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason, "message": message}}}]}});
    if let (Some(base), Value::Object(extra)) = (changes.as_object_mut(), extra) {
        base.extend(extra);
    }
    pod(changes)
}

const WEB: Option<&str> = Some("spec.containers{web}");

#[test]
fn a_missing_tag_is_named_with_its_registry_and_repository() {
    let mut state = state();
    state.events.push(event(
        "Failed",
        "Failed to pull image \"registry.example/shop/web:1.4\": rpc error: code = NotFound desc = failed to pull and unpack image \"registry.example/shop/web:1.4\": failed to resolve reference \"registry.example/shop/web:1.4\": registry.example/shop/web:1.4: not found",
        WEB,
    ));
    state.events.push(event(
        "BackOff",
        "Back-off pulling image \"registry.example/shop/web:1.4\"",
        WEB,
    ));
    let findings = analyse(
        &waiting(
            "ImagePullBackOff",
            "Back-off pulling image \"registry.example/shop/web:1.4\"",
            json!({}),
        ),
        &state,
    );
    let missing = find(&findings, "image-not-found");
    assert_eq!(missing.details["reference"]["registry"], "registry.example");
    assert_eq!(missing.details["reference"]["repository"], "shop/web");
    assert_eq!(missing.details["reference"]["tag"], "1.4");
    let all = text(missing);
    assert!(
        all.contains("kubectl set image pod/web-1 web=registry.example/shop/web:<tag> -n shop"),
        "{all}"
    );
    assert!(
        all.contains("crictl pull registry.example/shop/web:1.4"),
        "{all}"
    );
    assert!(all.contains("no imagePullSecrets"), "{all}");
}

#[test]
fn a_denied_pull_names_the_missing_pull_secret_and_how_to_create_it() {
    let mut state = state();
    state.service_accounts.push(object(
        json!({"metadata": {"name": "default", "namespace": "shop"}}),
    ));
    let message =
        "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized";
    let pod = waiting(
        "ErrImagePull",
        message,
        json!({"spec": {"imagePullSecrets": [{"name": "regcred"}]}}),
    );
    let findings = analyse(&pod, &state);
    let denied = find(&findings, "image-pull-unauthorized");
    assert_eq!(denied.details["pullSecrets"][0]["name"], "regcred");
    assert_eq!(denied.details["pullSecrets"][0]["exists"], false);
    let all = text(denied);
    assert!(
        all.contains("kubectl create secret docker-registry regcred --docker-server=registry.example --docker-username=<user> --docker-password=<password> -n shop"),
        "{all}"
    );
    assert!(all.contains("regcred (does not exist; from pod)"), "{all}");
}

#[test]
fn pull_secrets_that_cannot_be_read_are_said_so() {
    let mut state = state();
    state.loaded.remove(&kube_runbook::state::Kind::Secret);
    state.unavailable.push(kube_runbook::state::Unavailable {
        kind: kube_runbook::state::Kind::Secret,
        reason: "forbidden".into(),
    });
    let pod = waiting(
        "ErrImagePull",
        "pull access denied, repository does not exist or may require authorization",
        json!({}),
    );
    let findings = analyse(&pod, &state);
    let all = text(find(&findings, "image-pull-unauthorized"));
    assert!(
        all.contains("secrets could not be read (forbidden)"),
        "{all}"
    );
}

#[test]
fn a_huge_image_timing_out_gets_pre_pull_and_timeout_advice() {
    let mut state = state();
    state.events.push(event(
        "Failed",
        "Failed to pull image \"registry.example/shop/web:1.4\": cancel pulling image registry.example/shop/web:1.4 because of no progress in 5m0s",
        WEB,
    ));
    let findings = analyse(
        &waiting("ImagePullBackOff", "Back-off pulling image", json!({})),
        &state,
    );
    let all = text(find(&findings, "image-pull-timeout"));
    assert!(all.contains("image_pull_progress_timeout"), "{all}");
    assert!(
        all.contains("kubectl debug node/node-a -it --image=busybox -- chroot /host crictl pull"),
        "{all}"
    );
}

#[test]
fn an_invalid_reference_says_what_is_wrong() {
    let state = state();
    let pod = waiting(
        "InvalidImageName",
        "Failed to apply default image tag \"Shop/Web:1\": couldn't parse image reference",
        json!({"spec": {"containers": [{"name": "web", "image": "shop/Web:1"}]}}),
    );
    let findings = analyse(&pod, &state);
    let invalid = find(&findings, "invalid-image-name");
    assert!(invalid.title.contains("shop/Web:1"));
    assert!(
        text(invalid).contains("must be lowercase"),
        "{}",
        text(invalid)
    );
}

#[test]
fn never_pull_on_a_node_without_the_image() {
    let state = state();
    let pod = waiting(
        "ErrImageNeverPull",
        "Container image \"registry.example/shop/web:1.4\" is not present with pull policy of Never",
        json!({"spec": {"containers": [{"name": "web", "image": "registry.example/shop/web:1.4", "imagePullPolicy": "Never"}]}}),
    );
    let findings = analyse(&pod, &state);
    assert!(find(&findings, "image-never-pull").title.contains("node-a"));
}

#[test]
fn a_platform_mismatch_names_the_nodes_platform() {
    let mut state = state();
    state.events.push(event(
        "Failed",
        "Failed to pull image \"registry.example/shop/web:1.4\": no match for platform in manifest: not found",
        WEB,
    ));
    let findings = analyse(&waiting("ImagePullBackOff", "", json!({})), &state);
    assert!(text(find(&findings, "image-platform-mismatch")).contains("linux/arm64"));
}

#[test]
fn without_the_failed_event_the_back_off_message_is_read() {
    let state = state();
    let message = "Back-off pulling image \"registry.example/shop/web:1.4\": ErrImagePull: dial tcp: lookup registry.example: no such host";
    let findings = analyse(&waiting("ImagePullBackOff", message, json!({})), &state);
    let unreachable = find(&findings, "image-registry-unreachable");
    assert!(
        text(unreachable).contains("events expire after an hour"),
        "{}",
        text(unreachable)
    );

    let bare = analyse(
        &waiting(
            "ImagePullBackOff",
            "Back-off pulling image \"registry.example/shop/web:1.4\"",
            json!({}),
        ),
        &state,
    );
    assert!(
        find(&bare, "image-pull-failed")
            .title
            .contains("the pull fails")
    );
}
