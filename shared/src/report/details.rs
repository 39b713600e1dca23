//! A finding's plugin-specific data: a JSON value given at once, or one made from the analysis
//! only when something reads it. JSON and YAML output read it; text output does not, so a large
//! value (every node's verdict for a pending pod) costs nothing when it is not shown.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};
use serde_json::Value;

/// Reads as the [`Value`] it stands for (`details["key"]`); `Null` when there is none.
#[derive(Clone, Default)]
pub struct Details {
    value: OnceLock<Value>,
    make: Option<Arc<dyn Fn() -> Value + Send + Sync>>,
}

impl Details {
    /// Details made by `make` the first time they are read.
    pub fn deferred(make: impl Fn() -> Value + Send + Sync + 'static) -> Details {
        Details {
            value: OnceLock::new(),
            make: Some(Arc::new(make)),
        }
    }

    /// The value, made now if it was deferred.
    pub fn value(&self) -> &Value {
        self.value
            .get_or_init(|| self.make.as_ref().map_or(Value::Null, |make| make()))
    }

    /// Whether there are no details (serialization leaves them out).
    pub fn is_null(&self) -> bool {
        self.value().is_null()
    }
}

impl From<Value> for Details {
    fn from(value: Value) -> Details {
        Details {
            value: OnceLock::from(value),
            make: None,
        }
    }
}

impl Deref for Details {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl DerefMut for Details {
    /// The value, made now if it was deferred; from then on it is given.
    fn deref_mut(&mut self) -> &mut Value {
        self.value();
        self.make = None;
        self.value
            .get_mut()
            .unwrap_or_else(|| unreachable!("made just above"))
    }
}

impl PartialEq for Details {
    fn eq(&self, other: &Details) -> bool {
        self.value() == other.value()
    }
}

impl Eq for Details {}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value().fmt(f)
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn deferred_details_are_made_once_and_only_when_read() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let details = Details::deferred(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            json!({"nodes": [1, 2]})
        });
        assert_eq!(made.load(Ordering::SeqCst), 0);
        assert_eq!(details["nodes"][1], 2);
        assert_eq!(
            serde_json::to_string(&details).unwrap(),
            "{\"nodes\":[1,2]}"
        );
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn given_and_deferred_details_of_the_same_value_are_equal() {
        let given = Details::from(json!({"a": 1}));
        assert_eq!(given, Details::deferred(|| json!({"a": 1})));
        assert!(Details::default().is_null());
        assert!(!given.is_null());
    }

    #[test]
    fn changing_deferred_details_keeps_the_change() {
        let mut details = Details::deferred(|| json!({"a": 1}));
        details["b"] = json!(2);
        assert_eq!(*details, json!({"a": 1, "b": 2}));
        assert_eq!(details.take(), json!({"a": 1, "b": 2}));
        assert!(details.is_null());
    }
}
