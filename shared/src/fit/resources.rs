//! Named resource amounts in the scheduler's integer units: milli-CPU for `cpu`, bytes for memory,
//! ephemeral-storage and hugepages, counts for pods and extended resources.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Serialize, Serializer};

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// Amounts of named resources. Cheap: the four native resources are plain integers and the
/// scalar list (extended resources, hugepages) does not allocate when empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    milli_cpu: i64,
    memory: i64,
    ephemeral_storage: i64,
    pods: i64,
    /// Sorted by name; extended resources (`nvidia.com/gpu`), `hugepages-*`, `attachable-volumes-*`.
    scalar: Vec<(String, i64)>,
}

impl Resources {
    /// The amount of `name` (milli-CPU for `cpu`), zero when absent.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.pods,
            _ => self.scalar_position(name).map_or(0, |i| self.scalar[i].1),
        }
    }

    /// Sets the amount of `name`; names the scheduler does not track are ignored.
    pub fn set(&mut self, name: &str, amount: i64) {
        match name {
            CPU => self.milli_cpu = amount,
            MEMORY => self.memory = amount,
            EPHEMERAL_STORAGE => self.ephemeral_storage = amount,
            PODS => self.pods = amount,
            _ if is_scalar_resource(name) => match self.scalar_position(name) {
                Ok(i) => self.scalar[i].1 = amount,
                Err(i) => self.scalar.insert(i, (name.to_string(), amount)),
            },
            _ => {}
        }
    }

    /// Adds every amount of `other` to this one.
    pub fn add(&mut self, other: &Resources) {
        self.combine(other, i64::saturating_add);
    }

    /// Subtracts every amount of `other` from this one.
    pub fn subtract(&mut self, other: &Resources) {
        self.combine(other, i64::saturating_sub);
    }

    /// Every named amount, native resources first; zero native amounts are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        let native = [
            (CPU, self.milli_cpu),
            (MEMORY, self.memory),
            (EPHEMERAL_STORAGE, self.ephemeral_storage),
            (PODS, self.pods),
        ];
        native.into_iter().filter(|(_, amount)| *amount != 0).chain(
            self.scalar
                .iter()
                .map(|(name, amount)| (name.as_str(), *amount)),
        )
    }

    /// The extended, hugepages and attachable-volume entries, including explicit zeros.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, i64)> {
        self.scalar
            .iter()
            .map(|(name, amount)| (name.as_str(), *amount))
    }

    /// Whether the scheduler would skip every resource check but the pod count: no CPU, memory
    /// or ephemeral-storage request and no scalar entry at all (`fitsRequest`).
    pub fn requests_nothing(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.is_empty()
    }

    fn scalar_position(&self, name: &str) -> Result<usize, usize> {
        self.scalar
            .binary_search_by(|(existing, _)| existing.as_str().cmp(name))
    }

    fn combine(&mut self, other: &Resources, op: fn(i64, i64) -> i64) {
        self.milli_cpu = op(self.milli_cpu, other.milli_cpu);
        self.memory = op(self.memory, other.memory);
        self.ephemeral_storage = op(self.ephemeral_storage, other.ephemeral_storage);
        self.pods = op(self.pods, other.pods);
        for (name, amount) in &other.scalar {
            let current = self.get(name);
            self.set(name, op(current, *amount));
        }
    }
}

impl Serialize for Resources {
    /// As a map of Kubernetes quantity strings, e.g. `{"cpu": "1500m", "memory": "2Gi"}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<&str, String> = self
            .iter()
            .map(|(name, amount)| (name, quantity_string(name, amount)))
            .collect();
        map.serialize(serializer)
    }
}

/// Whether `name` is a resource the scheduler tracks beyond cpu, memory, ephemeral-storage and
/// pods: extended resources (`vendor/name`), `kubernetes.io/`-prefixed native resources,
/// hugepages and attachable volumes (`IsScalarResourceName`).
pub fn is_scalar_resource(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.starts_with("requests."))
}

/// Whether `name` is counted in bytes (shown with binary suffixes).
fn is_byte_resource(name: &str) -> bool {
    name == MEMORY || name == EPHEMERAL_STORAGE || name.starts_with("hugepages-")
}

/// A human amount: `1.5 CPU`, `512Mi`, `3 pods`, `2` (extended resources).
pub fn format_amount(name: &str, amount: i64) -> String {
    let mut text = String::new();
    write_amount(&mut text, name, amount);
    text
}

/// [`format_amount`], appended to `out`.
pub(crate) fn write_amount(out: &mut String, name: &str, amount: i64) {
    if name == CPU {
        write_thousandths(out, amount);
        out.push_str(" CPU");
    } else if name == PODS {
        let _ = write!(out, "{amount} pods");
    } else if is_byte_resource(name) {
        write_bytes(out, amount);
    } else {
        let _ = write!(out, "{amount}");
    }
}

/// A Kubernetes quantity string: `1500m` or `2` for CPU, `2Gi` or `1000` for bytes.
pub fn quantity_string(name: &str, amount: i64) -> String {
    if name == CPU {
        return if amount % 1000 == 0 {
            (amount / 1000).to_string()
        } else {
            format!("{amount}m")
        };
    }
    if is_byte_resource(name) && amount != 0 {
        for (suffix, power) in [
            ("Ei", 6),
            ("Pi", 5),
            ("Ti", 4),
            ("Gi", 3),
            ("Mi", 2),
            ("Ki", 1),
        ] {
            let unit = 1024_i64.pow(power);
            if amount % unit == 0 {
                return format!("{}{suffix}", amount / unit);
            }
        }
    }
    amount.to_string()
}

/// `1.5`, `-0.125`, `4`: thousandths as a decimal without trailing zeros.
fn write_thousandths(out: &mut String, milli: i64) {
    if milli < 0 {
        out.push('-');
    }
    let magnitude = milli.unsigned_abs();
    let _ = write!(out, "{}", magnitude / 1000);
    write_fraction(out, magnitude % 1000, 3);
}

/// `.5` for 500 of 3 digits, `.05` for 50 of 3, nothing for 0.
fn write_fraction(out: &mut String, mut fraction: u64, mut digits: usize) {
    if fraction == 0 {
        return;
    }
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        digits -= 1;
    }
    let _ = write!(out, ".{fraction:0digits$}");
}

/// `1.5Gi`, `953.68Mi` (rounded up to hundredths), `100 bytes`, `0`.
fn write_bytes(out: &mut String, bytes: i64) {
    const UNITS: [(&str, u32); 6] = [
        ("Ei", 6),
        ("Pi", 5),
        ("Ti", 4),
        ("Gi", 3),
        ("Mi", 2),
        ("Ki", 1),
    ];
    let magnitude = bytes.unsigned_abs();
    let Some((suffix, unit)) = UNITS
        .into_iter()
        .map(|(suffix, power)| (suffix, 1024_u64.pow(power)))
        .find(|(_, unit)| magnitude >= *unit)
    else {
        let _ = if bytes == 0 {
            write!(out, "0")
        } else {
            write!(out, "{bytes} bytes")
        };
        return;
    };
    if bytes < 0 {
        out.push('-');
    }
    let hundredths = match magnitude.checked_mul(100) {
        Some(scaled) => scaled.div_ceil(unit),
        None => u64::try_from((u128::from(magnitude) * 100).div_ceil(u128::from(unit)))
            .unwrap_or(u64::MAX),
    };
    let _ = write!(out, "{}", hundredths / 100);
    write_fraction(out, hundredths % 100, 2);
    out.push_str(suffix);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(entries: &[(&str, i64)]) -> Resources {
        let mut resources = Resources::default();
        for (name, amount) in entries {
            resources.set(name, *amount);
        }
        resources
    }

    #[test]
    fn arithmetic_over_native_and_scalar_resources() {
        let mut total = resources(&[(CPU, 1500), (MEMORY, 1024), ("nvidia.com/gpu", 1)]);
        total.add(&resources(&[
            (CPU, 500),
            ("nvidia.com/gpu", 2),
            ("hugepages-2Mi", 4),
        ]));
        assert_eq!(total.get(CPU), 2000);
        assert_eq!(total.get("nvidia.com/gpu"), 3);
        assert_eq!(total.get("hugepages-2Mi"), 4);
        total.subtract(&resources(&[(MEMORY, 24)]));
        assert_eq!(total.get(MEMORY), 1000);
        assert_eq!(total.get("example.com/absent"), 0);
    }

    #[test]
    fn untracked_names_are_ignored() {
        let untracked = resources(&[("storage", 5), ("requests.cpu", 1), ("foo", 2)]);
        assert_eq!(untracked, Resources::default());
        assert!(untracked.requests_nothing());
    }

    #[test]
    fn an_explicit_zero_scalar_still_counts_as_a_request() {
        assert!(!resources(&[("nvidia.com/gpu", 0)]).requests_nothing());
        assert!(resources(&[(PODS, 3)]).requests_nothing());
    }

    #[test]
    fn scalar_resource_classification() {
        assert!(is_scalar_resource("nvidia.com/gpu"));
        assert!(is_scalar_resource("hugepages-1Gi"));
        assert!(is_scalar_resource("kubernetes.io/batch-cpu"));
        assert!(is_scalar_resource("attachable-volumes-csi-ebs"));
        assert!(!is_scalar_resource("cpu"));
        assert!(!is_scalar_resource("requests.nvidia.com/gpu"));
    }

    #[test]
    fn human_amounts() {
        assert_eq!(format_amount(CPU, 1500), "1.5 CPU");
        assert_eq!(format_amount(CPU, 4000), "4 CPU");
        assert_eq!(format_amount(CPU, 125), "0.125 CPU");
        assert_eq!(format_amount(MEMORY, 512 * 1024 * 1024), "512Mi");
        assert_eq!(format_amount(MEMORY, 1_610_612_736), "1.5Gi");
        assert_eq!(format_amount(MEMORY, 1_000_000_000), "953.68Mi");
        assert_eq!(format_amount(MEMORY, 100), "100 bytes");
        assert_eq!(format_amount(MEMORY, 0), "0");
        assert_eq!(format_amount(PODS, 110), "110 pods");
        assert_eq!(format_amount("nvidia.com/gpu", 2), "2");
        assert_eq!(format_amount(CPU, -1050), "-1.05 CPU");
        assert_eq!(format_amount(MEMORY, -1_610_612_736), "-1.5Gi");
        assert_eq!(format_amount(MEMORY, 1024 * 1024 + 1), "1.01Mi");
        assert_eq!(format_amount(MEMORY, i64::MAX), "8Ei");
        assert_eq!(format_amount(MEMORY, i64::MIN), "-8Ei");
    }

    #[test]
    fn quantity_strings_round_trip_exactly() {
        assert_eq!(quantity_string(CPU, 1500), "1500m");
        assert_eq!(quantity_string(CPU, 2000), "2");
        assert_eq!(quantity_string(MEMORY, 2 * 1024 * 1024 * 1024), "2Gi");
        assert_eq!(quantity_string(MEMORY, 1_000_000_000), "1000000000");
        assert_eq!(quantity_string("nvidia.com/gpu", 1), "1");
    }

    #[test]
    fn serializes_as_quantity_map() {
        let json = serde_json::to_value(resources(&[(CPU, 250), (MEMORY, 1024)])).unwrap();
        assert_eq!(json, serde_json::json!({"cpu": "250m", "memory": "1Ki"}));
    }
}
