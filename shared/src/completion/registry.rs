//! The plugins' words, registered by the name each passes to `app::parse_args`: what each
//! positional names, and the flags of its own whose values name objects.

use super::nouns::{Noun, POD_OWNERS, SERVICES, STUCK_TYPES, find_type};
use crate::state::Kind;

/// What the next positional word of `plugin` names, given the subcommands entered and the
/// positional words already typed; None when it takes no (more) positionals.
pub fn positional(plugin: &str, subcommands: &[String], earlier: &[String]) -> Option<Noun> {
    let subcommand = subcommands.first().map(String::as_str);
    match (plugin, subcommand, earlier) {
        ("safe-drain", None, _) => Some(Noun::Names {
            kind: Kind::Node,
            except: earlier.to_vec(),
        }),
        ("safe-drain", Some("uncordon"), []) => Some(Noun::CordonedNodes),
        ("why-pending", None, []) => Some(Noun::TypedNames {
            types: POD_OWNERS,
            bare: Some(Kind::Pod),
        }),
        ("unstick", None, []) => Some(Noun::TypedNames {
            types: STUCK_TYPES,
            bare: None,
        }),
        ("unstick", None, [type_word]) if !type_word.contains('/') => {
            find_type(STUCK_TYPES, type_word).map(|kind| Noun::Names {
                kind,
                except: Vec::new(),
            })
        }
        ("svc-check", None, []) => Some(Noun::TypedNames {
            types: SERVICES,
            bare: Some(Kind::Service),
        }),
        _ => None,
    }
}

/// What the value of `plugin`'s own flag `id` names, beyond the kubectl flags every plugin has.
pub fn flag(plugin: &str, id: &str) -> Option<Noun> {
    match (plugin, id) {
        ("svc-check", "from") => Some(Noun::Names {
            kind: Kind::Pod,
            except: Vec::new(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn each_plugin_names_its_objects() {
        assert_eq!(
            positional("safe-drain", &[], &words(&["node-a"])),
            Some(Noun::Names {
                kind: Kind::Node,
                except: words(&["node-a"])
            })
        );
        assert_eq!(
            positional("safe-drain", &words(&["uncordon"]), &[]),
            Some(Noun::CordonedNodes)
        );
        assert_eq!(
            positional("safe-drain", &words(&["uncordon"]), &words(&["a"])),
            None
        );
        assert!(matches!(
            positional("why-pending", &[], &[]),
            Some(Noun::TypedNames {
                bare: Some(Kind::Pod),
                ..
            })
        ));
        assert_eq!(positional("why-pending", &[], &words(&["web"])), None);
        assert_eq!(
            positional("unstick", &[], &words(&["pvc"])),
            Some(Noun::Names {
                kind: Kind::PersistentVolumeClaim,
                except: vec![]
            })
        );
        assert_eq!(positional("unstick", &[], &words(&["pod/a"])), None);
        assert!(matches!(
            positional("svc-check", &[], &[]),
            Some(Noun::TypedNames {
                bare: Some(Kind::Service),
                ..
            })
        ));
        assert_eq!(
            flag("svc-check", "from"),
            Some(Noun::Names {
                kind: Kind::Pod,
                except: vec![]
            })
        );
        assert_eq!(positional("a-new-plugin", &[], &[]), None);
    }
}
