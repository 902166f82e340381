//! Every serde configuration of the crate rejects an unknown field with an error naming it,
//! and still fills missing fields with their defaults.

use inspection::voxel_sensor::{Camera, SensorModel, VoxelGrid};
use inspection::{AzConfig, InspectionConfig, PlannerConfig};
use serde::de::DeserializeOwned;

/// `{"<typo>": 1}` must fail, naming `typo`; `{}` must give the default.
fn rejects_typo<T: DeserializeOwned + PartialEq + std::fmt::Debug + Default>(typo: &str) {
    let name = std::any::type_name::<T>();
    let err = serde_json::from_str::<T>(&format!(r#"{{"{typo}": 1}}"#))
        .expect_err(&format!("{name} accepted the unknown field `{typo}`"));
    assert!(
        err.to_string().contains(&format!("unknown field `{typo}`")),
        "{name}: {err}"
    );
    let empty: T = serde_json::from_str("{}").unwrap();
    assert_eq!(
        empty,
        T::default(),
        "{name}: missing fields take the defaults"
    );
}

#[test]
fn configs_reject_unknown_fields_by_name() {
    rejects_typo::<InspectionConfig>("step");
    rejects_typo::<PlannerConfig>("horizn");
    rejects_typo::<AzConfig>("episodes_per_workers");
    rejects_typo::<VoxelGrid>("size");
    rejects_typo::<Camera>("fov");
    rejects_typo::<SensorModel>("hit_probability");
}

#[test]
fn a_typo_nested_in_a_config_is_named_too() {
    let err =
        serde_json::from_str::<InspectionConfig>(r#"{"camera": {"resolutoin": 32}}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `resolutoin`"),
        "{err}"
    );
    let err =
        serde_json::from_str::<PlannerConfig>(r#"{"uct": {"rollouts": "random"}}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `rollouts`"),
        "{err}"
    );
    // A nested config with some fields given takes the defaults of the others.
    let c: InspectionConfig = serde_json::from_str(r#"{"camera": {"resolution": 32}}"#).unwrap();
    assert_eq!(c.camera.resolution, 32);
    assert_eq!(c.camera.fov_deg, Camera::default().fov_deg);
}
